"""The installed digitlab's version, written into model files and reports."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("digitlab")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

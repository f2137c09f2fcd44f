"""Put the four files of a named data set on disk: shipped, local, cached or downloaded.

Downloads go through pooch, which streams each file to a temporary name in the cache folder
and moves it into place only once its SHA-256 matches, so a failed or corrupt download never
leaves a half file behind. Mirrors are tried in turn, file by file.

Offline, a data set's download is tried once per process: a notebook that calls `load_mnist`
in every cell gets one answer, at once, rather than a round of connection attempts (and
pooch's "Downloading data from" lines) each time.
"""

import contextlib
import logging
import os
from pathlib import Path

import pooch
import requests

from digitlab.datasets.sources import GZ_NAMES, Source, get_source, has_idx_files
from digitlab.errors import DataError, DownloadError

CACHE_ENV = "DIGITLAB_DATA_DIR"
# Seconds to wait for a connection or for the next bytes: a dead mirror fails fast and the
# next one is tried, while a slow but live one still gets through.
TIMEOUT_S = 15

#: the downloads that failed in this process, by (data set, its mirrors), with the reason:
#: asked again, they fail at once (files already in the cache are still used)
_FAILED: dict[tuple[str, tuple[str, ...]], str] = {}


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """The folder that holds one subfolder of downloads per data set.

    `cache_dir` if given, else ``$DIGITLAB_DATA_DIR`` if set, else the user cache folder
    (e.g. ``~/.cache/digitlab`` on Linux).
    """
    if cache_dir is not None:
        return Path(cache_dir)
    return Path(os.environ.get(CACHE_ENV) or pooch.os_cache("digitlab"))


def fetch(name: str, *, cache_dir: str | os.PathLike | None = None, progress: bool = True) -> Path:
    """Return the folder holding the four checked files of the data set `name`.

    A shipped data set is checked against its SHA-256s; a local folder listed for the data
    set (e.g. a Debian package) is used as is; otherwise each file is taken from the cache
    or downloaded into ``cache_root(cache_dir) / name`` and checked against its SHA-256.

    Args:
        name: a key of `DATASETS`, e.g. ``"mnist"``.
        cache_dir: the cache root to use instead of the default (see `cache_root`).
        progress: show a tqdm progress bar while downloading.

    Raises:
        DataError: `name` is unknown, a shipped file is damaged, or the cache is not writable.
        DownloadError: a file could not be downloaded from any mirror.
    """
    source = get_source(name)
    if source.shipped_dir is not None:
        _verify_shipped(source, source.shipped_dir)
        return source.shipped_dir
    for folder in source.local_dirs:
        if has_idx_files(folder):
            return folder
    folder = cache_root(cache_dir) / source.name
    key = (source.name, tuple(source.mirrors))
    if key in _FAILED and not all((folder / file_name).is_file() for file_name in GZ_NAMES):
        raise DownloadError(_FAILED[key] + " (not tried again in this process)")
    try:
        with _quiet_pooch():
            for file_name in GZ_NAMES:
                _download(source, file_name, folder, progress=progress)
    except DownloadError as error:
        _FAILED[key] = str(error)
        raise
    return folder


@contextlib.contextmanager
def _quiet_pooch():
    """pooch's "Downloading data from ..." lines off: the progress bar shows a download, and
    a failed one is a DownloadError that says what was tried."""
    logger = pooch.get_logger()
    level = logger.level
    logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        logger.setLevel(level)


def _verify_shipped(source: Source, folder: Path) -> None:
    """Check each shipped file's SHA-256, so a damaged install fails loudly, not subtly."""
    for file_name in GZ_NAMES:
        path = folder / file_name
        if not path.is_file():
            raise DataError(
                f"cannot read {path}: the file shipped with digitlab for {source.name} is "
                "missing; reinstall digitlab."
            )
        found = pooch.file_hash(str(path))
        if found != source.sha256[file_name]:
            raise DataError(
                f"cannot read {path}: its SHA-256 is {found} instead of "
                f"{source.sha256[file_name]} (damaged install?); reinstall digitlab."
            )


def _download(source: Source, file_name: str, folder: Path, *, progress: bool) -> Path:
    """Fetch one file into `folder` from the cache or the first mirror that serves it intact."""
    failures = []
    for mirror in source.mirrors:
        try:
            return Path(
                pooch.retrieve(
                    mirror + file_name,
                    known_hash=f"sha256:{source.sha256[file_name]}",
                    fname=file_name,
                    path=folder,
                    downloader=pooch.HTTPDownloader(progressbar=progress, timeout=TIMEOUT_S),
                )
            )
        # RequestException is an OSError too, so it must be caught first: it is the mirror's
        # fault and the next mirror may do better, while any other OSError is our disk's.
        except (requests.RequestException, ValueError) as error:
            failures.append(f"{mirror} ({_reason(error)})")
        except OSError as error:
            raise DataError(
                f"cannot save {file_name} in {folder}: {error.strerror or error}; set "
                f"{CACHE_ENV} to a writable folder."
            ) from None
    raise DownloadError(
        f"cannot download {file_name} for {source.name}: tried {', '.join(failures)}; put the "
        f"four files ({', '.join(GZ_NAMES)}) in a folder and pass it with `--data PATH` "
        "(or `load_dataset(PATH)`)."
    )


def _reason(error: Exception) -> str:
    """A few words on why one mirror failed, instead of a page of urllib3 internals."""
    if isinstance(error, requests.HTTPError) and error.response is not None:
        return f"HTTP {error.response.status_code} {error.response.reason}"
    if isinstance(error, requests.Timeout):
        return f"no answer within {TIMEOUT_S} s"
    if isinstance(error, requests.ConnectionError):
        return "cannot connect"
    if isinstance(error, requests.exceptions.ChunkedEncodingError):
        return "the connection broke off before the end of the file"
    if isinstance(error, requests.RequestException):
        return type(error).__name__
    # pooch raises ValueError when the downloaded file's hash differs from the known one.
    return "the downloaded file's SHA-256 does not match (corrupt or changed file)"

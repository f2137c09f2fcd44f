"""Typed errors a person can act on.

Every message is one sentence that names the file or the field, what was expected, what was
found and what to do next. The CLI prints it as one line and exits non-zero, with no traceback.
"""


class DigitlabError(Exception):
    """Base class of every error digitlab raises on purpose."""


class DataError(DigitlabError):
    """A data set file or folder is missing, truncated, corrupt or of the wrong kind."""


class DownloadError(DataError):
    """A data set could not be downloaded from any mirror."""


class ModelFileError(DigitlabError):
    """A model file is missing, malformed, tampered with or from a newer digitlab."""


class ConfigError(DigitlabError):
    """A setting (network size, learning rate, ...) is out of its valid range."""


class WriteError(DigitlabError):
    """A file could not be written (a full disk); the previous version is left as it was."""


class ImageError(DigitlabError):
    """An image to read is missing, not an image, empty, blank or too large to decode safely."""


class NoDigitError(ImageError):
    """The picture was read, but holds no digit: blank, only specks, or too small to hold one.

    reason: the short phrase a one-line answer shows ("nothing stands out from the background").
    """

    def __init__(self, message: str, reason: str):
        super().__init__(message)
        self.reason = reason


class LearnerCodeError(DigitlabError):
    """The learner's file could not be imported, or its factory failed or made no network."""


class NotANetworkError(DigitlabError, TypeError):
    """The object handed to the doctor has no `params` dict or no `loss(x, t)`."""

"""A data set in memory, and `load_dataset`, which gets one by name or from a folder."""

import os
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitlab.datasets.download import fetch
from digitlab.datasets.idx import read_idx
from digitlab.datasets.sources import DATASETS, Source, get_source, idx_files, unknown_dataset
from digitlab.display import Displayed
from digitlab.errors import DataError, DownloadError

#: the data sets already replaced by their stand-in in this process: warned about once
_FELL_BACK: set[tuple[str, tuple[str, ...]]] = set()


class DataFallbackWarning(UserWarning):
    """A smaller shipped data set is used because the one asked for could not be downloaded."""


# eq=False: the fields are arrays, whose == is elementwise and has no single truth value.
@dataclass(frozen=True, eq=False, repr=False)
class Dataset(Displayed):
    """Training and test images with their labels.

    Attributes:
        name: e.g. ``"mnist"``, or the folder's name for a data set read from a folder.
        x_train: (N, 28, 28) uint8 images, 0 (background) to 255 (ink).
        t_train: (N,) uint8 labels, indices into `classes`.
        x_test: (M, 28, 28) uint8 images.
        t_test: (M,) uint8 labels.
        classes: the class names, e.g. ``("0", ..., "9")``.
        source: the folder the files were read from.
    """

    name: str
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray
    classes: tuple[str, ...]
    source: str

    def __repr__(self) -> str:
        height, width = self.x_train.shape[1:]
        return (
            f"Dataset({self.name!r}, train={len(self.t_train)}, test={len(self.t_test)}, "
            f"{height}x{width}, {len(self.classes)} classes)"
        )


def load_dataset(
    name_or_path: str | os.PathLike = "mnist-10k",
    *,
    cache_dir: str | os.PathLike | None = None,
    progress: bool = True,
    fallback: bool = True,
) -> Dataset:
    """Load a named data set, or the four IDX files in a folder.

    Args:
        name_or_path: ``"mnist-10k"`` (shipped, offline), ``"mnist"`` or ``"fashion-mnist"``
            (downloaded on first use, then cached), or a folder holding
            ``train-images-idx3-ubyte``, ``train-labels-idx1-ubyte``,
            ``t10k-images-idx3-ubyte`` and ``t10k-labels-idx1-ubyte``, each raw or ``.gz``.
            A known name wins over a folder of the same name; write ``./mnist`` for the folder.
            A folder named like a known data set (``.../fashion-mnist``) takes its class names.
        cache_dir: where downloads are kept; default ``$DIGITLAB_DATA_DIR`` or the user cache.
        progress: show a progress bar while downloading.
        fallback: if a data set with a shipped stand-in (``mnist``) cannot be downloaded and
            is not cached, warn with a `DataFallbackWarning` and return the stand-in
            (``mnist-10k``) instead of raising.

    Raises:
        DataError: unknown name, missing or damaged file, or files that do not fit together.
        DownloadError: the download failed and there is no fallback (or ``fallback=False``).
    """
    source = DATASETS.get(os.fspath(name_or_path))
    if source is not None:
        return _load_named(source, cache_dir=cache_dir, progress=progress, fallback=fallback)
    folder = Path(name_or_path).expanduser()
    if not folder.is_dir():
        raise unknown_dataset(os.fspath(name_or_path))
    named = DATASETS.get(folder.name)
    return _read_folder(folder, folder.name, named.classes if named else None)


def _load_named(
    source: Source, *, cache_dir: str | os.PathLike | None, progress: bool, fallback: bool
) -> Dataset:
    """Fetch and read a registry entry, falling back to its shipped stand-in if allowed."""
    try:
        folder = fetch(source.name, cache_dir=cache_dir, progress=progress)
    except DownloadError:
        if not (fallback and source.fallback):
            raise
        stand_in = get_source(source.fallback)
        key = (source.name, tuple(source.mirrors))
        if key not in _FELL_BACK:  # one line per process, not one per call
            _FELL_BACK.add(key)
            warnings.warn(
                f"cannot download {source.name} (no network?); falling back to the shipped "
                f"{stand_in.name} ({stand_in.n_train:,} training images)",
                DataFallbackWarning,
                stacklevel=3,
            )
        return _load_named(stand_in, cache_dir=cache_dir, progress=progress, fallback=False)
    return _read_folder(folder, source.name, source.classes, (source.n_train, source.n_test))


def _check_every_class_occurs(folder: Path, t_train: np.ndarray, n_labels: int) -> None:
    """Classes are numbered 0 to the largest label: a class no training image has is a stray
    label (a 200 among digits would make a 201-class network), refused with its count."""
    counts = np.bincount(t_train, minlength=n_labels)
    missing = np.flatnonzero(counts == 0)
    if missing.size:
        largest = int(np.flatnonzero(counts)[-1]) if counts.any() else n_labels - 1
        raise DataError(
            f"cannot load {folder}: its labels go up to {n_labels - 1}, but {missing.size:,} of "
            f"the classes 0-{n_labels - 1} have no training image (label {largest} occurs "
            f"{int(counts[largest]):,} times, {int(missing[0])} never); check the label files "
            "for stray values: each class needs training images."
        )


def _read_folder(
    folder: Path,
    name: str,
    classes: tuple[str, ...] | None,
    sizes: tuple[int, int] | None = None,
) -> Dataset:
    """Read and cross-check the four IDX files in `folder`.

    `classes` None names the classes "0", "1", ... up to the largest label; `sizes` is the
    expected (train, test) count of a named data set, None to accept any.
    """
    x_train_path, t_train_path, x_test_path, t_test_path = idx_files(folder)
    n_train, n_test = sizes or (None, None)
    x_train, t_train = _read_split(x_train_path, t_train_path, n_train)
    x_test, t_test = _read_split(x_test_path, t_test_path, n_test)

    n_labels = int(max(t_train.max(initial=0), t_test.max(initial=0))) + 1
    if classes is None:
        _check_every_class_occurs(folder, t_train, n_labels)
        classes = tuple(str(label) for label in range(n_labels))
    elif n_labels > len(classes):
        raise DataError(
            f"cannot load {name} from {folder}: its labels go up to {n_labels - 1} but it has "
            f"only {len(classes)} classes; check that the label files belong to {name}."
        )
    return Dataset(name, x_train, t_train, x_test, t_test, classes, str(folder))


def _read_split(
    images_path: Path, labels_path: Path, size: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Read one images file and its labels file and check that they fit together."""
    images = read_idx(images_path, ndim=3)
    labels = read_idx(labels_path, ndim=1)
    if images.dtype != np.uint8 or images.shape[1:] != (28, 28):
        height, width = images.shape[1:]
        raise DataError(
            f"cannot load {images_path}: it holds {height}x{width} {images.dtype} images "
            "instead of 28x28 uint8 ones; use MNIST-format image files."
        )
    if labels.dtype != np.uint8:
        raise DataError(
            f"cannot load {labels_path}: it holds {labels.dtype} labels instead of uint8 ones; "
            "use MNIST-format label files."
        )
    if len(images) != len(labels):
        raise DataError(
            f"cannot load {images_path.name} with {labels_path.name} from {images_path.parent}: "
            f"{len(images):,} images but {len(labels):,} labels; use the two files of one "
            "data set."
        )
    if size is not None and len(images) != size:
        raise DataError(
            f"cannot load {images_path}: it holds {len(images):,} images instead of {size:,}; "
            "replace it and its labels file with the original files."
        )
    return images, labels


def to_inputs(
    images: np.ndarray, dtype: str | np.dtype = np.float32, *, flatten: bool = True
) -> np.ndarray:
    """uint8 pixels as a network's inputs, scaled to [0, 1] (pixel / 255): the one place
    digitlab turns bytes into inputs, so that training, evaluation and reports agree.

    images: (N, H, W) uint8. Returns (N, H*W) in `dtype`, or (N, 1, H, W) with flatten=False
    (the layout a conv net takes).
    """
    shape = (len(images), -1) if flatten else (len(images), 1, *images.shape[1:])
    x = images.reshape(shape).astype(dtype)
    x /= 255
    return x

"""A learner's own labelled images, read as they are stored: an IDX pair, an .npz or a CSV.

`digitlab doctor --data PATH` examines a network on the data its author trains it on, so
nothing here rescales or resizes: bytes 0-255 stay 0-255, scikit-learn's 8x8 digits stay 0-16.
Every way a file can be unusable is one `DataError` naming the file, the field and the fix.
Nothing is unpickled, and sizes are checked before anything is allocated.

>>> read_user_data("digits.npz")
UserData('digits.npz', 1797 samples, 8x8, 10 classes)
"""

from __future__ import annotations

import math
import os
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitlab.datasets.idx import read_idx
from digitlab.datasets.sources import DATASETS, IDX_STEMS
from digitlab.errors import DataError
from digitlab.i18n import _

#: the most bytes one array read here may take: the full MNIST training set as float64 takes
#: 376 MB, and the doctor only needs a batch of it
MAX_BYTES = 1 << 30
#: a CSV value takes at least two characters ("0,") and becomes 8 bytes of float64, so a CSV
#: file of MAX_BYTES / 4 bytes parses into at most MAX_BYTES
MAX_CSV_BYTES = MAX_BYTES // 4
#: the names an .npz's images and labels are looked for under, in this order
IMAGE_NAMES = ("x", "X", "x_train", "X_train", "images", "data")
LABEL_NAMES = ("t", "y", "Y", "t_train", "y_train", "labels", "target")
#: header names of a CSV's label column (compared in lower case); without one, the first column
LABEL_COLUMNS = ("label", "labels", "target", "y", "class")
#: labels above this are not class indices (ImageNet has 1,000 classes)
MAX_CLASS_INDEX = 9_999
#: the images file and the labels file of an IDX folder, each raw or .gz
IDX_PAIR = IDX_STEMS[:2]


# eq=False: the fields are arrays, whose == is elementwise and has no single truth value.
@dataclass(frozen=True, eq=False, repr=False)
class UserData:
    """Images and labels of one file or folder, as stored.

    Attributes:
        name: the file's or folder's name, e.g. ``"digits.npz"``.
        x: (N, D), (N, H, W) or more axes: one image per row, in the file's dtype and range.
        t: (N,) int64 class indices, 0 to ``len(classes) - 1``.
        source: the path read.
    """

    name: str
    x: np.ndarray
    t: np.ndarray
    source: str

    @property
    def classes(self) -> tuple[str, ...]:
        """The class names: "0", "1", ... up to the largest label."""
        return tuple(str(label) for label in range(int(self.t.max()) + 1))

    def __repr__(self) -> str:
        size = "x".join(map(str, self.x.shape[1:]))
        return (
            f"UserData({self.name!r}, {len(self.t)} samples, {size}, {len(self.classes)} classes)"
        )


def read_user_data(path: str | os.PathLike) -> UserData:
    """Read the images and labels in `path`, leaving their values as they are.

    Args:
        path: a folder holding ``train-images-idx3-ubyte`` and ``train-labels-idx1-ubyte``
            (each raw or ``.gz``, images of any size); an ``.npz`` with the images under one of
            `IMAGE_NAMES` and the labels under one of `LABEL_NAMES`; or a ``.csv`` of one sample
            per line, its label in the column named like `LABEL_COLUMNS` (else the first) and
            its pixel values in the others, with or without a header line.

    Labels are class indices, or one-hot rows turned into indices.

    Raises:
        DataError: no such file, a kind not read here, or a file that is damaged, too large, or
            holds no images, labels that are not class indices, or counts that disagree.
    """
    path = Path(path).expanduser()
    kind = path.suffix.lower()
    if path.is_dir():
        return _read_idx_pair(path)
    if kind == ".npz" and path.is_file():
        return _read_npz(path)
    if kind == ".csv" and path.is_file():
        return _read_csv(path)
    if path.exists():
        raise DataError(
            _(
                "cannot read {path}: it is neither a folder of IDX files, an .npz nor a .csv "
                "file; save your images and labels with np.savez(path, x=images, t=labels)."
            ).format(path=path)
        )
    raise DataError(
        _(
            "cannot read {path}: there is no such file or folder, and it is not the name of a "
            "data set ({names}); check the path."
        ).format(path=path, names=", ".join(DATASETS))
    )


def _read_idx_pair(folder: Path) -> UserData:
    images_path, labels_path = (_idx_file(folder, stem) for stem in IDX_PAIR)
    for file in (images_path, labels_path):
        _check_file_size(file, MAX_BYTES)
    x = read_idx(images_path)
    t = read_idx(labels_path, ndim=1)
    return _checked(folder, x, images_path.name, t, labels_path.name)


def _idx_file(folder: Path, stem: str) -> Path:
    """`folder/stem.gz`, else `folder/stem`."""
    for path in (folder / f"{stem}.gz", folder / stem):
        if path.is_file():
            return path
    raise DataError(
        _(
            "cannot read the data in {folder}: it has no {stem} or {stem}.gz; put your images in "
            "{images} and their labels in {labels} (raw or .gz), or pass an .npz or .csv file."
        ).format(folder=folder, stem=stem, images=IDX_PAIR[0], labels=IDX_PAIR[1])
    )


def _read_npz(path: Path) -> UserData:
    try:
        with zipfile.ZipFile(path) as archive:
            members = {
                info.filename.removesuffix(".npy"): info
                for info in archive.infolist()
                if info.filename.endswith(".npy")
            }
            x_name = _pick(path, members, IMAGE_NAMES, _("images"))
            t_name = _pick(path, members, LABEL_NAMES, _("labels"))
            x, t = (_read_member(path, archive, members[name]) for name in (x_name, t_name))
    except (zipfile.BadZipFile, EOFError, OSError) as error:
        raise DataError(
            _(
                "cannot read {path}: it is not a readable .npz file ({error}); save it again "
                "with np.savez(path, x=images, t=labels)."
            ).format(path=path, error=error)
        ) from None
    return _checked(path, x, x_name, t, t_name)


def _pick(path: Path, members: dict, names: tuple[str, ...], what: str) -> str:
    """The first of `names` the archive holds, or a DataError saying what it holds instead."""
    found = next((name for name in names if name in members), None)
    if found is None:
        raise DataError(
            _(
                "cannot read {path}: it has no array of {what} among {found}; name it one of "
                "{expected}, e.g. np.savez(path, x=images, t=labels)."
            ).format(
                path=path,
                what=what,
                found=", ".join(members) or _("(no arrays)"),
                expected=", ".join(names),
            )
        )
    return found


def _read_member(path: Path, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> np.ndarray:
    """One array of the archive, its header checked before its values are allocated: numpy
    allocates the whole shape the header declares before it reads a byte of the values."""
    name = info.filename.removesuffix(".npy")
    try:
        with archive.open(info) as file:
            version = np.lib.format.read_magic(file)
            if version == (1, 0):
                shape, _fortran, dtype = np.lib.format.read_array_header_1_0(file)
            elif version == (2, 0):
                shape, _fortran, dtype = np.lib.format.read_array_header_2_0(file)
            else:
                raise ValueError(f"NumPy format version {version[0]}.{version[1]}")
            header_size = file.tell()
        if dtype.hasobject:
            raise DataError(
                _(
                    "cannot read {path}: its array {name} holds Python objects, which digitlab "
                    "does not unpickle; save numbers, e.g. np.savez(path, {name}=np.asarray("
                    "{name}, dtype=np.float32))."
                ).format(path=path, name=name)
            )
        size = math.prod(shape) * dtype.itemsize
        if size > MAX_BYTES:
            raise _too_large(path, size)
        if size > info.file_size - header_size:
            raise DataError(
                _(
                    "cannot read {path}: its array {name} ends before the {shape} values its "
                    "header announces (truncated file?); save it again."
                ).format(path=path, name=name, shape="x".join(map(str, shape)))
            )
        with archive.open(info) as file:
            return np.lib.format.read_array(file, allow_pickle=False)
    except ValueError as error:
        raise DataError(
            _(
                "cannot read {path}: its member {member} is not a NumPy array ({error}); save it "
                "again with np.savez."
            ).format(path=path, member=info.filename, error=error)
        ) from None


def _read_csv(path: Path) -> UserData:
    _check_file_size(path, MAX_CSV_BYTES)
    try:
        # utf-8-sig: spreadsheets begin their CSV files with a byte-order mark
        with path.open(encoding="utf-8-sig") as file:
            first = file.readline()
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(
            _("cannot read {path}: {error}; save it as UTF-8 text.").format(path=path, error=error)
        ) from None
    fields = [field.strip().strip("\"'") for field in first.split(",")]
    has_header = not all(_is_number(field) for field in fields)
    lowered = [field.lower() for field in fields]
    column = next((lowered.index(name) for name in LABEL_COLUMNS if name in lowered), 0)
    label_field = (
        _("column {name!r}").format(name=fields[column])
        if has_header
        else _("column {number}").format(number=column + 1)
    )
    try:
        with warnings.catch_warnings():
            # an empty file warns "input contained no data"; it is reported below instead
            warnings.simplefilter("ignore", UserWarning)
            values = np.loadtxt(
                path, delimiter=",", skiprows=int(has_header), ndmin=2, encoding="utf-8-sig"
            )
    except ValueError as error:
        # numpy's own advice after ";" (use `usecols`) is not the fix here
        raise DataError(
            _(
                "cannot read {path}: {error}; write one sample per line, the label and the pixel "
                "values separated by commas."
            ).format(path=path, error=str(error).split(";")[0].rstrip("."))
        ) from None
    if values.shape[0] == 0:
        raise DataError(
            _(
                "cannot read {path}: it holds no samples; write one sample per line, the label "
                "and the pixel values separated by commas."
            ).format(path=path)
        )
    if values.shape[1] < 2:
        raise DataError(
            _(
                "cannot read {path}: it has {columns} column(s), where a label and at least one "
                "pixel value were expected; write one sample per line, separated by commas."
            ).format(path=path, columns=values.shape[1])
        )
    x = np.delete(values, column, axis=1)
    return _checked(path, x, _("the pixel columns"), values[:, column], label_field)


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _check_file_size(path: Path, limit: int) -> None:
    size = path.stat().st_size
    if size > limit:
        raise _too_large(path, size, limit)


def _too_large(path: Path, size: int, limit: int = MAX_BYTES) -> DataError:
    return DataError(
        _(
            "cannot read {path}: it holds {size:,} bytes, more than the {limit:,} read here; save "
            "a sample of it (a few thousand images are plenty to examine a network)."
        ).format(path=path, size=size, limit=limit)
    )


def _checked(path: Path, x: np.ndarray, x_field: str, t: np.ndarray, t_field: str) -> UserData:
    """UserData of images `x` and labels `t` (indices or one-hot rows), or the DataError that
    names what is wrong with which of them."""
    if x.ndim < 2 or x.shape[0] == 0 or x.dtype.kind not in "biuf":
        raise DataError(
            _(
                "cannot read {path}: {field} holds a {shape} {dtype} array where numbers with one "
                "image per row, (N, D) or (N, H, W), were expected; store the images that way."
            ).format(path=path, field=x_field, shape=x.shape, dtype=x.dtype)
        )
    if t.ndim == 2 and t.shape[1] == 1:
        t = t[:, 0]
    if t.ndim == 2 and t.dtype.kind in "biuf" and _one_hot(t):
        t = t.argmax(axis=1)
    if t.ndim != 1 or len(t) != len(x):
        raise DataError(
            _(
                "cannot read {path}: {labels} holds a {shape} array of labels for {count} images "
                "in {images}; store one class index (or one one-hot row) per image."
            ).format(
                path=path,
                labels=t_field,
                shape=t.shape,
                count=len(x),
                images=x_field,
            )
        )
    bad = _not_class_indices(t)
    if bad is not None:
        raise DataError(
            _(
                "cannot read {path}: {labels} holds {value} at index {row}, where class indices "
                "from 0 to at most {limit:,} were expected; store each label as the number of its "
                "class."
            ).format(path=path, labels=t_field, value=t[bad], row=bad, limit=MAX_CLASS_INDEX)
        )
    return UserData(path.name, x, t.astype(np.int64), str(path))


def _one_hot(t: np.ndarray) -> bool:
    """Whether every row of the (N, C) array `t` is zeros and a single one."""
    return bool(np.all((t == 0) | (t == 1)) and np.all(t.sum(axis=1) == 1))


def _not_class_indices(t: np.ndarray) -> int | None:
    """The row of the first label that is not a whole number from 0 to MAX_CLASS_INDEX, or
    None."""
    if t.dtype.kind not in "biuf":
        return 0
    bad = (t < 0) | (t > MAX_CLASS_INDEX)
    if t.dtype.kind == "f":
        bad |= ~np.isfinite(t) | (t != np.round(t))
    return int(np.argmax(bad)) if bad.any() else None

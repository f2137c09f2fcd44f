"""Read IDX files, the format of MNIST and Fashion-MNIST, gzip-compressed or raw.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 size per dimension, then the values in C order. Every way a file can be
damaged becomes a `DataError` of one sentence that says what to do.
"""

import gzip
import math
import os
import zlib
from pathlib import Path

import numpy as np

from digitlab.errors import DataError

# The type codes the IDX format defines; values are stored big-endian.
IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"
REDOWNLOAD = "delete it and download it again"


def read_idx(path: str | os.PathLike, *, ndim: int | None = None) -> np.ndarray:
    """Read one IDX file into an array, decompressing it first if it is gzip.

    Compression is detected from the first bytes (1f 8b), not from the file name.

    Args:
        path: the file, e.g. ``train-images-idx3-ubyte.gz`` or ``t10k-labels-idx1-ubyte``.
        ndim: the number of dimensions the caller expects (3 for images, 1 for labels),
            or None to accept any.

    Returns:
        A writable array in native byte order with the file's shape and dtype, e.g.
        (60000, 28, 28) uint8 for images or (60000,) uint8 for labels.

    Raises:
        DataError: the file is missing, not IDX, truncated, too long or a corrupt gzip stream.
    """
    path = Path(path)
    data = _read_bytes(path)
    if data[:2] == GZIP_MAGIC:
        data = _gunzip(path, data)

    if len(data) < 4:
        raise DataError(
            f"cannot read {path}: the file holds only {len(data)} bytes, shorter than the 4-byte "
            f"IDX magic number (truncated download?); {REDOWNLOAD}."
        )
    if data[:2] != b"\x00\x00":
        raise DataError(
            f"cannot read {path}: it is not an IDX file (starts with 0x{data[0]:02x} "
            f"0x{data[1]:02x} instead of 0x00 0x00); point to the original MNIST-format files."
        )
    type_code, file_ndim = data[2], data[3]
    if type_code not in IDX_DTYPES:
        known = ", ".join(f"0x{code:02x} ({dtype.name})" for code, dtype in IDX_DTYPES.items())
        raise DataError(
            f"cannot read {path}: its IDX type code is 0x{type_code:02x} instead of one of "
            f"{known}; point to the original MNIST-format files."
        )
    if ndim is not None and file_ndim != ndim:
        raise DataError(
            f"cannot read {path}: it holds {file_ndim}-d data where {ndim}-d "
            f"{_unit(ndim)} were expected (files swapped or renamed?); check the file names."
        )

    header_size = 4 + 4 * file_ndim
    if len(data) < header_size:
        raise DataError(
            f"cannot read {path}: the file ends inside its header after {len(data)} of "
            f"{header_size} bytes (truncated download?); {REDOWNLOAD}."
        )
    shape = tuple(int(size) for size in np.frombuffer(data, ">u4", file_ndim, offset=4))
    dtype = IDX_DTYPES[type_code]
    _check_payload(path, len(data) - header_size, shape, dtype)

    values = np.frombuffer(data, dtype, math.prod(shape), offset=header_size).reshape(shape)
    # One copy turns the read-only view of the file's bytes into a writable array, and
    # big-endian values into the machine's byte order so arithmetic on them is fast.
    return values.astype(dtype.newbyteorder("="))


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, with a missing or unreadable file as a DataError."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataError(
            f"cannot read {path}: the file does not exist; check the path, or download the "
            "data set again."
        ) from None
    except OSError as error:
        raise DataError(
            f"cannot read {path}: {error.strerror or error}; check that it is a readable file."
        ) from None


def _gunzip(path: Path, data: bytes) -> bytes:
    """Decompress a gzip file's bytes, with every kind of damage as a DataError."""
    try:
        return gzip.decompress(data)
    except EOFError:
        reason = "it ends before the end of the compressed data"
    except (OSError, zlib.error) as error:
        reason = str(error)
    raise DataError(
        f"cannot read {path}: the gzip stream is corrupt ({reason}; truncated download?); "
        f"{REDOWNLOAD}."
    )


def _check_payload(path: Path, payload_size: int, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """Check that the bytes after the header hold exactly the values the header announces."""
    count = shape[0] if shape else 1
    item_size = math.prod(shape[1:]) * dtype.itemsize
    expected = count * item_size
    if payload_size == expected:
        return
    unit = _unit(len(shape))
    if payload_size < expected:
        complete = payload_size // item_size
        raise DataError(
            f"cannot read {path}: the file ends after {complete:,} of {count:,} {unit} "
            f"(truncated download?); {REDOWNLOAD}."
        )
    raise DataError(
        f"cannot read {path}: the file has {payload_size - expected:,} extra bytes after its "
        f"{count:,} {unit} (corrupt or not an IDX file?); {REDOWNLOAD}."
    )


def _unit(ndim: int) -> str:
    """What one entry along the first axis is called in messages."""
    return {1: "labels", 3: "images"}.get(ndim, "items")

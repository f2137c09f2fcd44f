"""Read IDX files, the format of MNIST and Fashion-MNIST, gzip-compressed or raw.

An IDX file is a 4-byte magic number (two zero bytes, a type code, the number of dimensions),
one big-endian uint32 size per dimension, then the values in C order. Every way a file can be
damaged becomes a `DataError` of one sentence that says what to do.
"""

import contextlib
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
#: the most bytes of values an IDX file may announce: MNIST's training images are 47 MB,
#: EMNIST's largest split about 0.6 GB; a header announcing more is corrupt or hostile (a 2 MB
#: gzip can expand to gigabytes), and is refused before anything is decompressed
MAX_IDX_BYTES = 1 << 30
#: trailing bytes after the values counted for the message (a bomb is not expanded to its end)
TRAILING_COUNTED = 1 << 24
REDOWNLOAD = "delete it and download it again"


def read_idx(path: str | os.PathLike, *, ndim: int | None = None) -> np.ndarray:
    """Read one IDX file into an array, decompressing it first if it is gzip.

    Compression is detected from the first bytes (1f 8b), not from the file name. The file is
    streamed: its header is read first, and a file announcing more than MAX_IDX_BYTES of
    values, or no values at all, is refused before anything more is read or decompressed; a
    gzip stream is never decompressed past the size its header announces plus
    TRAILING_COUNTED bytes (counted, not kept, to tell a file that goes on).

    Args:
        path: the file, e.g. ``train-images-idx3-ubyte.gz`` or ``t10k-labels-idx1-ubyte``.
        ndim: the number of dimensions the caller expects (3 for images, 1 for labels),
            or None to accept any.

    Returns:
        A writable array in native byte order with the file's shape and dtype, e.g.
        (60000, 28, 28) uint8 for images or (60000,) uint8 for labels.

    Raises:
        DataError: the file is missing, not IDX, empty, too large, truncated, too long or a
            corrupt gzip stream.
    """
    path = Path(path)
    with _open(path) as (stream, compressed):
        try:
            return _read_stream(path, stream, ndim, compressed)
        except EOFError:
            reason = "it ends before the end of the compressed data"
        except (OSError, zlib.error) as error:
            reason = str(error)
    raise DataError(
        f"cannot read {path}: the gzip stream is corrupt ({reason}; truncated download?); "
        f"{REDOWNLOAD}."
    )


def _read_stream(path: Path, stream, ndim: int | None, compressed: bool) -> np.ndarray:
    magic = stream.read(4)
    if len(magic) < 4:
        raise DataError(
            f"cannot read {path}: the file holds only {len(magic)} bytes, shorter than the 4-byte "
            f"IDX magic number (truncated download?); {REDOWNLOAD}."
        )
    if magic[:2] != b"\x00\x00":
        raise DataError(
            f"cannot read {path}: it is not an IDX file (starts with 0x{magic[0]:02x} "
            f"0x{magic[1]:02x} instead of 0x00 0x00); point to the original MNIST-format files."
        )
    type_code, file_ndim = magic[2], magic[3]
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
    sizes = stream.read(4 * file_ndim)
    if len(sizes) < 4 * file_ndim:
        raise DataError(
            f"cannot read {path}: the file ends inside its header after {4 + len(sizes)} of "
            f"{4 + 4 * file_ndim} bytes (truncated download?); {REDOWNLOAD}."
        )
    shape = tuple(int(size) for size in np.frombuffer(sizes, ">u4"))
    dtype = IDX_DTYPES[type_code]
    _check_announced(path, shape, dtype)
    expected = math.prod(shape) * dtype.itemsize
    if not compressed:
        # a raw file's size is known: nothing is allocated for values it does not hold
        available = os.fstat(stream.fileno()).st_size - 4 - 4 * file_ndim
        _check_payload(path, available, shape, dtype)
    payload = stream.read(expected)
    # read to the end: a gzip stream's checksum is checked there (a flipped byte inside it)
    _check_payload(path, len(payload) + _rest(stream), shape, dtype)
    values = np.frombuffer(payload, dtype).reshape(shape)
    # One copy turns the read-only view of the file's bytes into a writable array, and
    # big-endian values into the machine's byte order so arithmetic on them is fast.
    return values.astype(dtype.newbyteorder("="))


def _rest(stream) -> int:
    """The bytes left in the stream, counted (not kept) up to TRAILING_COUNTED."""
    count = 0
    while count < TRAILING_COUNTED:
        chunk = stream.read(min(1 << 20, TRAILING_COUNTED - count))
        if not chunk:
            break
        count += len(chunk)
    return count


@contextlib.contextmanager
def _open(path: Path):
    """(stream, compressed): the file, through gzip where it starts with 1f 8b; a missing or
    unreadable file is a DataError."""
    try:
        file = path.open("rb")
    except FileNotFoundError:
        raise DataError(
            f"cannot read {path}: the file does not exist; check the path, or download the "
            "data set again."
        ) from None
    except OSError as error:
        raise DataError(
            f"cannot read {path}: {error.strerror or error}; check that it is a readable file."
        ) from None
    with file:
        try:
            compressed = file.read(2) == GZIP_MAGIC
            file.seek(0)
        except OSError as error:  # a folder opens on some systems, and fails on read
            raise DataError(
                f"cannot read {path}: {error.strerror or error}; check that it is a readable file."
            ) from None
        if compressed:
            with gzip.GzipFile(fileobj=file, mode="rb") as stream:
                yield stream, True
        else:
            yield file, False


def _check_announced(path: Path, shape: tuple[int, ...], dtype: np.dtype) -> None:
    """Refuse a header announcing no values, or more than MAX_IDX_BYTES of them."""
    if not shape or shape[0] == 0:
        raise DataError(
            f"cannot read {path}: its header announces 0 {_unit(len(shape))}; point to a file "
            "that holds some."
        )
    size = math.prod(shape) * dtype.itemsize
    if size > MAX_IDX_BYTES:
        raise DataError(
            f"cannot read {path}: its header announces {shape[0]:,} {_unit(len(shape))} of "
            f"{'x'.join(map(str, shape[1:])) or '1'} {dtype.name} values, {size / 2**30:.1f} GiB, "
            f"over digitlab's limit of {MAX_IDX_BYTES / 2**30:.0f} GiB (corrupt header?); check "
            "the file, or split the data set."
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
    extra = payload_size - expected
    amount = f"{extra:,}" if extra < TRAILING_COUNTED else f"at least {extra:,}"
    raise DataError(
        f"cannot read {path}: the file has {amount} extra bytes after its {count:,} {unit} "
        f"(corrupt or not an IDX file?); {REDOWNLOAD}."
    )


def _unit(ndim: int) -> str:
    """What one entry along the first axis is called in messages."""
    return {1: "labels", 3: "images"}.get(ndim, "items")

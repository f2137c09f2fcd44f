"""Hostile IDX files: damaged, truncated, type-confused or decompression bombs.

Whatever the bytes, `read_idx` returns the array its header announces or raises one DataError;
never another exception, and never more memory than the values it announces (checked under
`resource.setrlimit` in a child process for the bombs).
"""

from __future__ import annotations

import gzip
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from digitlab.datasets import read_idx
from digitlab.datasets.idx import MAX_IDX_BYTES
from digitlab.errors import DataError
from hostile import SETTINGS
from idx_files import idx_bytes


def small_images(count: int = 3) -> np.ndarray:
    return (np.arange(count * 4 * 4) % 256).astype(np.uint8).reshape(count, 4, 4)


def read_or_refuse(path: Path):
    """The array, or None where a DataError refused the file; any other exception fails."""
    try:
        return read_idx(path)
    except DataError as error:
        assert str(path) in str(error)  # the message names the file
        return None


@SETTINGS
@given(data=st.data(), compress=st.booleans())
def test_mutated_files_are_read_or_refused(tmp_path_factory, data, compress):
    original = bytearray(idx_bytes(small_images()))
    edits = data.draw(
        st.lists(st.tuples(st.integers(0, len(original) - 1), st.integers(0, 255)), max_size=4)
    )
    for position, value in edits:
        original[position] = value
    cut = data.draw(st.integers(0, len(original)))
    content = bytes(original[:cut])
    if compress:
        content = gzip.compress(content)
    path = tmp_path_factory.mktemp("idx") / "images-idx3-ubyte"
    path.write_bytes(content)
    array = read_or_refuse(path)
    if array is not None:
        # what was read is exactly what the (possibly edited) header announced
        assert array.shape == announced_shape(bytes(original)) and array.size > 0


def announced_shape(data: bytes) -> tuple[int, ...]:
    """The shape an IDX header announces: its dimension count, then one uint32 each."""
    return struct.unpack(f">{data[3]}I", data[4 : 4 + 4 * data[3]])


@SETTINGS
@given(blob=st.binary(max_size=64), compress=st.booleans())
def test_arbitrary_bytes_are_read_or_refused(tmp_path_factory, blob, compress):
    path = tmp_path_factory.mktemp("idx") / "blob"
    path.write_bytes(gzip.compress(blob) if compress else blob)
    read_or_refuse(path)


@SETTINGS
@given(
    shape=st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=4),
    code=st.sampled_from([0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E]),
)
def test_any_announced_shape_is_refused_before_allocating(tmp_path_factory, shape, code):
    """A header announcing any shape (up to 2^32 - 1 per axis) with a few bytes after it."""
    header = bytes([0, 0, code, len(shape)]) + struct.pack(f">{len(shape)}I", *shape)
    path = tmp_path_factory.mktemp("idx") / "header-only.gz"
    path.write_bytes(gzip.compress(header + b"\x01" * 16))
    array = read_or_refuse(path)
    if array is not None:
        assert array.shape == tuple(shape)


def test_zero_images_is_one_clear_error(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 0, 28, 28))
    with pytest.raises(DataError, match="announces 0 images"):
        read_idx(path)


def test_a_header_over_the_limit_names_the_size(tmp_path):
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2_000_000, 28, 28)))
    with pytest.raises(DataError, match=r"1\.5 GiB, over digitlab's limit of 1 GiB"):
        read_idx(path)
    assert MAX_IDX_BYTES < 2_000_000 * 784


def zero_bomb(path: Path, images: int, trailing_gib: int) -> None:
    """A gzip file (a few MB) of `images` 28x28 images followed by `trailing_gib` GiB of zeros:
    gzip members, each 64 MiB of zeros compressed once and written again and again."""
    block = zlib.compressobj(9, zlib.DEFLATED, 31)
    member = block.compress(bytes(64 << 20)) + block.flush()
    with path.open("wb") as file:
        file.write(gzip.compress(idx_bytes(np.zeros((images, 28, 28), np.uint8))))
        for _ in range(trailing_gib * 16):
            file.write(member)


def test_a_decompression_bomb_is_not_expanded(tmp_path):
    """2 MB on disk expanding to 2 GiB: refused (extra bytes) in a child process whose address
    space is capped at 600 MB, so reading it whole would fail with MemoryError instead."""
    path = tmp_path / "train-images-idx3-ubyte.gz"
    zero_bomb(path, images=100, trailing_gib=2)
    assert path.stat().st_size < 4 << 20
    script = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, (600 << 20, 600 << 20))
        from digitlab.datasets import read_idx
        from digitlab.errors import DataError
        try:
            read_idx({str(path)!r})
        except DataError as error:
            print("refused:", error)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "at least 16,777,216 extra bytes" in done.stdout


def test_a_stray_label_in_a_data_folder_is_refused(tmp_path, shared_data):
    """A label of 200 among digits would make a 201-class network: refused, with its count."""
    import shutil

    from digitlab.datasets import load_dataset

    folder = tmp_path / "digits"
    shutil.copytree(shared_data / "mnist-10k", folder)
    labels_path = folder / "train-labels-idx1-ubyte.gz"
    labels = read_idx(labels_path)
    labels[123] = 200
    labels_path.write_bytes(gzip.compress(idx_bytes(labels)))
    with pytest.raises(DataError, match="label 200 occurs 1 times"):
        load_dataset(str(folder), progress=False)

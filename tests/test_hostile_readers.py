"""Hostile user data (`--data PATH`: .npz, CSV) and images (`digitlab predict`): whatever the
bytes, a reader returns what the file holds or raises its one DigitlabError, never another
exception; the sizes a header announces are checked before anything is allocated."""

from __future__ import annotations

import contextlib
import io
import struct
import zlib

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from digitlab.datasets import read_user_data
from digitlab.errors import DataError, ImageError
from digitlab.imaging import open_image, predict
from hostile import SETTINGS


def npz_bytes(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def csv_text(rows: int = 4, width: int = 4) -> str:
    lines = ["label," + ",".join(f"p{i}" for i in range(width))]
    lines += [
        f"{r % 3}," + ",".join(str((r * width + i) % 256) for i in range(width))
        for r in range(rows)
    ]
    return "\n".join(lines) + "\n"


def read_or_refuse(path):
    try:
        return read_user_data(path)
    except DataError as error:
        assert "\n" not in str(error)
        return None


@SETTINGS
@given(data=st.data())
def test_mutated_npz_files_are_read_or_refused(tmp_path_factory, data):
    raw = bytearray(npz_bytes(X=np.arange(48.0).reshape(3, 16), y=np.array([0, 1, 2])))
    for _ in range(data.draw(st.integers(1, 5))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path_factory.mktemp("npz") / "digits.npz"
    path.write_bytes(bytes(raw[: data.draw(st.integers(0, len(raw)))]))
    read_or_refuse(path)


ARRAYS = st.sampled_from(
    [
        np.zeros((0, 4)),
        np.array([[np.nan, 1.0]]),
        np.array(["a", "b"]),
        np.array([1.5, 2.0]),
        np.array([-1, 5]),
        np.array([10**6, 1]),
        np.zeros((2, 2, 2, 2)),
        np.array(3.0),
        np.array([True, False]),
        np.zeros((2, 3), dtype=np.complex128),
    ]
)


@SETTINGS
@given(x=ARRAYS, y=ARRAYS)
def test_type_confused_npz_members_are_read_or_refused(tmp_path_factory, x, y):
    path = tmp_path_factory.mktemp("npz") / "digits.npz"
    path.write_bytes(npz_bytes(X=x, y=y))
    read_or_refuse(path)


def test_an_object_array_is_never_unpickled(tmp_path):
    path = tmp_path / "evil.npz"
    path.write_bytes(npz_bytes(X=np.array([{"a": 1}, None], dtype=object), y=np.array([0, 1])))
    assert read_or_refuse(path) is None


@SETTINGS
@given(data=st.data())
def test_mutated_csv_files_are_read_or_refused(tmp_path_factory, data):
    text = list(csv_text())
    for _ in range(data.draw(st.integers(1, 6))):
        text[data.draw(st.integers(0, len(text) - 1))] = data.draw(
            st.sampled_from(list('0123456789,;.-e\n" xnan'))
        )
    path = tmp_path_factory.mktemp("csv") / "digits.csv"
    path.write_text("".join(text))
    read_or_refuse(path)


# -- images -------------------------------------------------------------------------------------


def png_bytes(width: int = 28, height: int = 28) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray((np.arange(width * height) % 256).astype(np.uint8).reshape(height, width)).save(
        buffer, "PNG"
    )
    return buffer.getvalue()


def image_or_refuse(path):
    try:
        return open_image(path)
    except ImageError as error:
        assert "\n" not in str(error)
        return None


@SETTINGS
@given(data=st.data())
def test_mutated_images_open_or_are_refused(tmp_path_factory, data):
    raw = bytearray(png_bytes())
    for _ in range(data.draw(st.integers(1, 5))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    path = tmp_path_factory.mktemp("img") / "digit.png"
    path.write_bytes(bytes(raw[: data.draw(st.integers(0, len(raw)))]))
    image = image_or_refuse(path)
    if image is not None:
        with contextlib.suppress(ImageError):
            predict(None, path)


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def test_a_png_announcing_a_billion_pixels_is_refused_from_its_header(tmp_path):
    """A 100 KB PNG whose header says 40,000 x 40,000: refused before decoding."""
    header = struct.pack(">IIBBBBB", 40_000, 40_000, 8, 0, 0, 0, 0)
    rows = zlib.compress(b"\0" * (40_001 * 100))
    path = tmp_path / "bomb.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")
    )
    assert image_or_refuse(path) is None

"""The IDX reader on the real MNIST files, and on every way such a file can be damaged."""

import gzip
import shutil
from pathlib import Path

import numpy as np
import pytest

from digitlab.datasets import read_idx
from digitlab.errors import DataError

FILES = {
    "train-images-idx3-ubyte.gz": (10_000, 28, 28),
    "train-labels-idx1-ubyte.gz": (10_000,),
    "t10k-images-idx3-ubyte.gz": (10_000, 28, 28),
    "t10k-labels-idx1-ubyte.gz": (10_000,),
}


@pytest.fixture
def mnist(shared_data: Path) -> Path:
    return shared_data / "mnist-10k"


@pytest.mark.parametrize(("name", "shape"), FILES.items())
def test_reads_real_mnist_files(mnist: Path, name: str, shape: tuple[int, ...]) -> None:
    array = read_idx(mnist / name)
    assert array.shape == shape
    assert array.dtype == np.uint8
    if len(shape) == 1:
        assert set(np.unique(array)) == set(range(10))
    else:
        assert array.min() == 0 and array.max() == 255


def test_first_training_label_is_five(mnist: Path) -> None:
    # The first MNIST training image is the well-known handwritten 5.
    labels = read_idx(mnist / "train-labels-idx1-ubyte.gz")
    assert labels[0] == 5
    np.testing.assert_array_equal(labels[:10], [5, 0, 4, 1, 9, 2, 1, 3, 1, 4])


@pytest.mark.parametrize("name", FILES)
def test_raw_file_reads_the_same_as_gzip(mnist: Path, tmp_path: Path, name: str) -> None:
    raw = tmp_path / name.removesuffix(".gz")
    with gzip.open(mnist / name) as src, raw.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    np.testing.assert_array_equal(read_idx(raw), read_idx(mnist / name))


def test_gzip_is_detected_by_content_not_name(mnist: Path, tmp_path: Path) -> None:
    misnamed = tmp_path / "train-labels-idx1-ubyte"
    shutil.copy(mnist / "train-labels-idx1-ubyte.gz", misnamed)
    assert read_idx(misnamed)[0] == 5


def test_payload_matches_an_independent_parse(mnist: Path) -> None:
    # Parse the header with the standard library alone, as the format's spec describes it.
    with gzip.open(mnist / "t10k-images-idx3-ubyte.gz") as f:
        data = f.read()
    assert data[:4] == b"\x00\x00\x08\x03"
    n, rows, cols = (int.from_bytes(data[i : i + 4], "big") for i in (4, 8, 12))
    assert n == 10_000
    pixel = data[16 + 123 * rows * cols + 14 * cols + 15]
    assert read_idx(mnist / "t10k-images-idx3-ubyte.gz")[123, 14, 15] == pixel


@pytest.mark.parametrize(
    ("code", "dtype", "values"),
    [
        (0x09, np.int8, [-3, 0, 7]),
        (0x0B, np.int16, [-300, 0, 7000]),
        (0x0C, np.int32, [-70000, 0, 1]),
        (0x0D, np.float32, [-1.5, 0.0, 2.25]),
        (0x0E, np.float64, [1e-300, 0.0, -2.5]),
    ],
)
def test_other_type_codes_are_big_endian(tmp_path: Path, code: int, dtype: type, values) -> None:
    path = tmp_path / "values-idx1"
    payload = np.array(values, dtype=np.dtype(dtype).newbyteorder(">")).tobytes()
    path.write_bytes(bytes([0, 0, code, 1]) + (3).to_bytes(4, "big") + payload)
    array = read_idx(path)
    assert array.dtype == dtype
    np.testing.assert_array_equal(array, values)


def write_gz(path: Path, data: bytes) -> Path:
    path.write_bytes(gzip.compress(data, compresslevel=1))  # fast; any level will do
    return path


@pytest.fixture
def images_bytes(mnist: Path) -> bytes:
    with gzip.open(mnist / "train-images-idx3-ubyte.gz") as f:
        return f.read()


@pytest.fixture
def labels_bytes(mnist: Path) -> bytes:
    with gzip.open(mnist / "train-labels-idx1-ubyte.gz") as f:
        return f.read()


def test_truncated_images_name_the_count(tmp_path: Path, images_bytes: bytes) -> None:
    cut = images_bytes[: 16 + 1204 * 784 + 100]
    path = write_gz(tmp_path / "train-images-idx3-ubyte.gz", cut)
    with pytest.raises(DataError) as error:
        read_idx(path)
    message = str(error.value)
    assert message.startswith(f"cannot read {path}:")
    assert "the file ends after 1,204 of 10,000 images (truncated download?)" in message
    assert message.endswith("delete it and download it again.")


def test_truncated_labels_name_the_count(tmp_path: Path, labels_bytes: bytes) -> None:
    path = write_gz(tmp_path / "train-labels-idx1-ubyte.gz", labels_bytes[:-1])
    with pytest.raises(DataError, match=r"ends after 9,999 of 10,000 labels") as error:
        read_idx(path)
    assert "train-labels-idx1-ubyte.gz" in str(error.value)


def test_file_cut_inside_its_header(tmp_path: Path, images_bytes: bytes) -> None:
    path = write_gz(tmp_path / "train-images-idx3-ubyte.gz", images_bytes[:10])
    with pytest.raises(DataError, match=r"ends inside its header after 10 of 16 bytes"):
        read_idx(path)


def test_trailing_bytes(tmp_path: Path, labels_bytes: bytes) -> None:
    path = write_gz(tmp_path / "train-labels-idx1-ubyte.gz", labels_bytes + b"\x00" * 7)
    with pytest.raises(DataError) as error:
        read_idx(path)
    assert "train-labels-idx1-ubyte.gz" in str(error.value)
    assert "has 7 extra bytes after its 10,000 labels" in str(error.value)


def test_wrong_magic(tmp_path: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(DataError) as error:
        read_idx(path)
    assert "train-images-idx3-ubyte" in str(error.value)
    assert "is not an IDX file (starts with 0x50 0x4b instead of 0x00 0x00)" in str(error.value)


def test_unknown_type_code(tmp_path: Path, labels_bytes: bytes) -> None:
    path = write_gz(tmp_path / "labels.gz", labels_bytes[:2] + b"\x07" + labels_bytes[3:])
    with pytest.raises(DataError, match=r"labels\.gz: its IDX type code is 0x07 instead of"):
        read_idx(path)


def test_wrong_number_of_dimensions(mnist: Path) -> None:
    path = mnist / "train-labels-idx1-ubyte.gz"
    with pytest.raises(DataError) as error:
        read_idx(path, ndim=3)
    assert str(path) in str(error.value)
    assert "holds 1-d data where 3-d images were expected" in str(error.value)


def test_header_sizes_disagree_with_payload(tmp_path: Path, images_bytes: bytes) -> None:
    # Claim 28x29 images: the 10,000 images' bytes no longer divide into the announced sizes.
    wrong = images_bytes[:12] + (29).to_bytes(4, "big") + images_bytes[16:]
    path = write_gz(tmp_path / "train-images-idx3-ubyte.gz", wrong)
    with pytest.raises(DataError, match=r"ends after 9,655 of 10,000 images"):
        read_idx(path)


def test_corrupt_gzip_stream(tmp_path: Path, mnist: Path) -> None:
    data = bytearray((mnist / "train-labels-idx1-ubyte.gz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    path = tmp_path / "train-labels-idx1-ubyte.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError) as error:
        read_idx(path)
    assert "train-labels-idx1-ubyte.gz: the gzip stream is corrupt" in str(error.value)


def test_cut_gzip_file(tmp_path: Path, mnist: Path) -> None:
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes((mnist / "train-images-idx3-ubyte.gz").read_bytes()[:50_000])
    with pytest.raises(DataError, match=r"the gzip stream is corrupt \(it ends before the end"):
        read_idx(path)


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    with pytest.raises(DataError) as error:
        read_idx(path)
    assert str(error.value) == (
        f"cannot read {path}: the file does not exist; check the path, or download the data "
        "set again."
    )


def test_a_folder_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"check that it is a readable file"):
        read_idx(tmp_path)

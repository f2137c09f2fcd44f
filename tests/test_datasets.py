"""Named data sets, folders, the Dataset container, the fallback, and the book's load_mnist."""

import dataclasses
import gzip
import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest

from digitlab.datasets import (
    DATASETS,
    DataFallbackWarning,
    Dataset,
    fetch,
    load_dataset,
    load_mnist,
    read_idx,
)
from digitlab.errors import DataError, DownloadError

IDX_FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)
FASHION = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


@pytest.fixture
def shipped_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped mnist-10k files that the registry entry now points to."""
    folder = tmp_path / "mnist_10k"
    shutil.copytree(DATASETS["mnist-10k"].shipped_dir, folder)
    entry = dataclasses.replace(DATASETS["mnist-10k"], shipped_dir=folder)
    monkeypatch.setitem(DATASETS, "mnist-10k", entry)
    return folder


@pytest.fixture
def offline_mnist(monkeypatch: pytest.MonkeyPatch, dead_mirror: str, tmp_path: Path) -> None:
    """Make `mnist` unreachable: its only mirror refuses connections, its cache is empty."""
    entry = dataclasses.replace(DATASETS["mnist"], mirrors=(dead_mirror,))
    monkeypatch.setitem(DATASETS, "mnist", entry)
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(tmp_path / "cache"))


def test_mnist_10k_ships_with_the_package(shared_data: Path) -> None:
    data = load_dataset()
    assert data.name == "mnist-10k"
    assert data.classes == tuple("0123456789")
    assert Path(data.source) == DATASETS["mnist-10k"].shipped_dir
    assert data.x_train.shape == (10_000, 28, 28) and data.x_train.dtype == np.uint8
    assert data.t_train.shape == (10_000,) and data.t_train.dtype == np.uint8
    assert data.x_test.shape == (10_000, 28, 28) and data.t_test.shape == (10_000,)
    assert data.t_train[0] == 5
    # The shipped files are the shared data's files, read by the IDX reader alone.
    reference = shared_data / "mnist-10k"
    np.testing.assert_array_equal(data.x_test, read_idx(reference / IDX_FILES[2]))
    np.testing.assert_array_equal(data.t_train, read_idx(reference / IDX_FILES[1]))


def test_repr() -> None:
    assert repr(load_dataset("mnist-10k")) == (
        "Dataset('mnist-10k', train=10000, test=10000, 28x28, 10 classes)"
    )


def test_dataset_is_frozen() -> None:
    data = load_dataset("mnist-10k")
    with pytest.raises(dataclasses.FrozenInstanceError):
        data.name = "other"  # type: ignore[misc]


def test_damaged_shipped_file_is_caught_by_its_checksum(shipped_copy: Path) -> None:
    path = shipped_copy / "t10k-labels-idx1-ubyte.gz"
    data = bytearray(path.read_bytes())
    data[-9] ^= 0x01  # one flipped bit in the gzip trailer's CRC
    path.write_bytes(bytes(data))
    with pytest.raises(DataError) as error:
        load_dataset("mnist-10k")
    message = str(error.value)
    assert message.startswith(f"cannot read {path}: its SHA-256 is ")
    assert "instead of fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c" in message
    assert message.endswith("reinstall digitlab.")


def test_missing_shipped_file(shipped_copy: Path) -> None:
    (shipped_copy / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz: the file shipped with"):
        fetch("mnist-10k")


def test_folder_of_fashion_mnist(shared_data: Path) -> None:
    folder = shared_data / "fashion-mnist"
    data = load_dataset(folder)
    assert repr(data) == "Dataset('fashion-mnist', train=60000, test=10000, 28x28, 10 classes)"
    # A folder named like a known data set takes its class names.
    assert data.classes == FASHION
    assert data.source == str(folder)
    assert data.x_train.shape == (60_000, 28, 28) and data.t_test.shape == (10_000,)
    assert np.bincount(data.t_train).tolist() == [6_000] * 10


def test_folder_of_raw_files_with_any_name(shared_data: Path, tmp_path: Path) -> None:
    folder = tmp_path / "my digits"
    folder.mkdir()
    for name in IDX_FILES:
        with gzip.open(shared_data / "mnist-10k" / name) as src:
            (folder / name.removesuffix(".gz")).write_bytes(src.read())
    data = load_dataset(str(folder))
    assert data.name == "my digits"
    assert data.classes == tuple("0123456789")
    np.testing.assert_array_equal(data.x_train, load_dataset("mnist-10k").x_train)


def test_folder_missing_a_file(shared_data: Path, tmp_path: Path) -> None:
    for name in IDX_FILES[:2] + IDX_FILES[3:]:
        shutil.copy(shared_data / "mnist-10k" / name, tmp_path)
    with pytest.raises(DataError) as error:
        load_dataset(tmp_path)
    assert str(error.value).startswith(
        f"cannot load the data set in {tmp_path}: it has no t10k-images-idx3-ubyte.gz or "
        "t10k-images-idx3-ubyte;"
    )


def test_images_and_labels_counts_must_agree(shared_data: Path, tmp_path: Path) -> None:
    for name in IDX_FILES:
        shutil.copy(shared_data / "mnist-10k" / name, tmp_path)
    labels = np.arange(9_999, dtype=np.uint8) % 10
    header = b"\x00\x00\x08\x01" + (9_999).to_bytes(4, "big")
    (tmp_path / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(header + labels.tobytes()))
    with pytest.raises(DataError) as error:
        load_dataset(tmp_path)
    message = str(error.value)
    assert "t10k-images-idx3-ubyte.gz with t10k-labels-idx1-ubyte.gz" in message
    assert "10,000 images but 9,999 labels" in message


def test_label_and_image_files_swapped(shared_data: Path, tmp_path: Path) -> None:
    source = shared_data / "mnist-10k"
    shutil.copy(source / "train-labels-idx1-ubyte.gz", tmp_path / "train-images-idx3-ubyte.gz")
    shutil.copy(source / "train-images-idx3-ubyte.gz", tmp_path / "train-labels-idx1-ubyte.gz")
    for name in IDX_FILES[2:]:
        shutil.copy(source / name, tmp_path)
    with pytest.raises(DataError, match=r"holds 1-d data where 3-d images were expected"):
        load_dataset(tmp_path)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(DataError) as error:
        load_dataset("mnits")
    message = str(error.value)
    assert message.startswith("unknown data set 'mnits': it is neither one of ")
    for name in ("mnist-10k", "mnist", "fashion-mnist"):
        assert name in message
    assert "or pass a folder holding the four IDX files" in message


def test_debian_folder_is_used_before_downloading(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch, dead_mirror: str
) -> None:
    # Stand the shared copy of Debian's files in for /usr/share/datasets/fashion-mnist.
    local = shared_data / "fashion-mnist"
    entry = dataclasses.replace(
        DATASETS["fashion-mnist"], local_dirs=(Path("/nonexistent"), local), mirrors=(dead_mirror,)
    )
    monkeypatch.setitem(DATASETS, "fashion-mnist", entry)
    assert fetch("fashion-mnist") == local
    data = load_dataset("fashion-mnist")
    assert data.name == "fashion-mnist" and data.classes == FASHION
    assert len(data.t_train) == 60_000


def test_named_data_set_with_the_wrong_size(
    shared_data: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # mnist-10k's files where the registry expects fashion-mnist's 60,000 training images.
    entry = dataclasses.replace(DATASETS["fashion-mnist"], local_dirs=(shared_data / "mnist-10k",))
    monkeypatch.setitem(DATASETS, "fashion-mnist", entry)
    with pytest.raises(DataError, match=r"holds 10,000 images instead of 60,000"):
        load_dataset("fashion-mnist")


@pytest.mark.usefixtures("offline_mnist")
def test_mnist_falls_back_to_the_shipped_subset_with_a_warning() -> None:
    with pytest.warns(DataFallbackWarning) as record:
        data = load_dataset("mnist", progress=False)
    assert len(record) == 1
    assert str(record[0].message) == (
        "cannot download mnist (no network?); falling back to the shipped mnist-10k "
        "(10,000 training images)"
    )
    assert issubclass(DataFallbackWarning, UserWarning)
    assert data.name == "mnist-10k" and len(data.t_train) == 10_000


@pytest.mark.usefixtures("offline_mnist")
def test_no_fallback_raises_the_download_error(dead_mirror: str) -> None:
    with pytest.raises(DownloadError, match=rf"cannot download .* tried {dead_mirror} "):
        load_dataset("mnist", progress=False, fallback=False)


@pytest.mark.usefixtures("offline_mnist")
def test_book_default_is_full_mnist_with_the_fallback() -> None:
    with pytest.warns(DataFallbackWarning):
        (x_train, t_train), (x_test, t_test) = load_mnist(progress=False)
    assert x_train.shape == x_test.shape == (10_000, 784)
    assert t_train.shape == t_test.shape == (10_000,)


@pytest.mark.parametrize(
    ("normalize", "flatten", "one_hot_label"), list(itertools.product([True, False], repeat=3))
)
def test_load_mnist_follows_the_book(normalize: bool, flatten: bool, one_hot_label: bool) -> None:
    (x_train, t_train), (x_test, t_test) = load_mnist(
        normalize=normalize, flatten=flatten, one_hot_label=one_hot_label, dataset="mnist-10k"
    )
    raw = load_dataset("mnist-10k")
    for x, raw_x in ((x_train, raw.x_train), (x_test, raw.x_test)):
        assert x.shape == ((10_000, 784) if flatten else (10_000, 1, 28, 28))
        if normalize:
            assert x.dtype == np.float32
            assert x.min() == 0.0 and x.max() == 1.0
            # The book: x.astype(np.float32); x /= 255.0
            expected = raw_x.reshape(x.shape).astype(np.float32)
            expected /= 255.0
            np.testing.assert_array_equal(x, expected)
        else:
            assert x.dtype == np.uint8
            np.testing.assert_array_equal(x, raw_x.reshape(x.shape))
    for t, raw_t in ((t_train, raw.t_train), (t_test, raw.t_test)):
        if one_hot_label:
            # The book's _change_one_hot_label fills np.zeros((N, 10)): float64.
            assert t.shape == (10_000, 10) and t.dtype == np.float64
            assert set(np.unique(t)) == {0.0, 1.0}
            np.testing.assert_array_equal(t.sum(axis=1), 1.0)
            np.testing.assert_array_equal(t.argmax(axis=1), raw_t)
        else:
            assert t.shape == (10_000,) and t.dtype == np.uint8
            np.testing.assert_array_equal(t, raw_t)


def test_dataset_fields() -> None:
    field_names = [field.name for field in dataclasses.fields(Dataset)]
    assert field_names == ["name", "x_train", "t_train", "x_test", "t_test", "classes", "source"]

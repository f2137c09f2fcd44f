"""Named data sets, folders, the Dataset container, the fallback, and the book's load_mnist."""

import dataclasses
import gzip
import io
import itertools
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from digitlab.datasets import (
    DATASETS,
    DataFallbackWarning,
    Dataset,
    download,
    fetch,
    load_dataset,
    load_mnist,
    read_idx,
    read_user_data,
)
from digitlab.errors import DataError, DownloadError
from idx_files import idx_bytes

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
def test_offline_the_network_is_tried_once_and_the_fallback_said_once(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture
) -> None:
    attempts = []
    retrieve = download.pooch.retrieve

    def counted(url, *args, **kwargs):
        attempts.append(url)
        return retrieve(url, *args, **kwargs)

    monkeypatch.setattr(download.pooch, "retrieve", counted)
    with pytest.warns(DataFallbackWarning):
        load_mnist(progress=False)
    assert len(attempts) == 1  # the first file's only mirror refused: no more files tried
    for _ in range(3):  # as a notebook's cells call it: no warning (an error here), no attempt
        (x_train, _t), _test = load_mnist(progress=False)
        assert x_train.shape == (10_000, 784)
    assert len(attempts) == 1
    with pytest.raises(DownloadError, match="not tried again in this process"):
        load_dataset("mnist", progress=False, fallback=False)
    printed = capfd.readouterr()
    assert "Downloading data from" not in printed.out + printed.err


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


# -- a learner's own data, read as it is stored ---------------------------------------------


@pytest.fixture(scope="module")
def digits_8x8() -> tuple[np.ndarray, np.ndarray]:
    """300 real MNIST digits shrunk to 8x8 with values 0-16, as scikit-learn's load_digits has
    them: the central 24x24 pixels averaged over 3x3 blocks. uint8 (300, 8, 8) and labels."""
    data = load_dataset("mnist-10k")
    blocks = data.x_train[:300, 2:26, 2:26].reshape(300, 8, 3, 8, 3).mean(axis=(2, 4))
    return np.round(blocks / 255 * 16).astype(np.uint8), data.t_train[:300]


def test_an_npz_of_8x8_digits_keeps_its_values(digits_8x8, tmp_path: Path) -> None:
    x, t = digits_8x8
    np.savez(tmp_path / "digits.npz", X=x, y=t, note=np.arange(3))
    data = read_user_data(tmp_path / "digits.npz")
    assert repr(data) == "UserData('digits.npz', 300 samples, 8x8, 10 classes)"
    assert data.x.dtype == np.uint8 and data.x.max() == 16  # not divided by anything
    np.testing.assert_array_equal(data.x, x)
    np.testing.assert_array_equal(data.t, t)
    assert data.classes == tuple("0123456789")


def test_keras_names_and_one_hot_labels(digits_8x8, tmp_path: Path) -> None:
    x, t = digits_8x8
    np.savez(tmp_path / "mnist.npz", x_train=x, y_train=np.eye(10)[t], x_test=x[:5])
    data = read_user_data(tmp_path / "mnist.npz")
    np.testing.assert_array_equal(data.t, t)


@pytest.mark.parametrize("compressed", [True, False])
def test_an_idx_pair_of_any_image_size(digits_8x8, tmp_path: Path, compressed: bool) -> None:
    x, t = digits_8x8
    for stem, array in (("train-images-idx3-ubyte", x), ("train-labels-idx1-ubyte", t)):
        data = idx_bytes(array)
        if compressed:
            (tmp_path / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (tmp_path / stem).write_bytes(data)
    data = read_user_data(tmp_path)
    assert data.x.shape == (300, 8, 8)
    np.testing.assert_array_equal(data.x, x)
    np.testing.assert_array_equal(data.t, t)


def test_a_csv_with_a_named_label_column_anywhere(digits_8x8, tmp_path: Path) -> None:
    x, t = digits_8x8
    pixels = x.reshape(300, 64)
    lines = [",".join([f"pixel{i}" for i in range(32)] + ["Target"] + [f"p{i}" for i in range(32)])]
    lines += [
        ",".join(map(str, [*row[:32], label, *row[32:]]))
        for row, label in zip(pixels, t, strict=True)
    ]
    (tmp_path / "digits.csv").write_text("\n".join(lines) + "\n")
    data = read_user_data(tmp_path / "digits.csv")
    assert data.x.shape == (300, 64)
    np.testing.assert_array_equal(data.x, pixels)
    np.testing.assert_array_equal(data.t, t)


def test_a_csv_without_header_has_its_label_first(tmp_path: Path) -> None:
    (tmp_path / "tiny.csv").write_text("3,0,0.5,1\n1,1,0.25,0\n")
    data = read_user_data(tmp_path / "tiny.csv")
    np.testing.assert_array_equal(data.t, [3, 1])
    np.testing.assert_array_equal(data.x, [[0, 0.5, 1], [1, 0.25, 0]])
    assert data.classes == ("0", "1", "2", "3")


def npy_member(path: Path, name: str, shape: tuple[int, ...], payload: bytes) -> None:
    """An .npz whose member `name` has a header announcing `shape` (float64) but `payload`."""
    header = io.BytesIO()
    fields = {"descr": "<f8", "fortran_order": False, "shape": shape}
    np.lib.format.write_array_header_1_0(header, fields)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{name}.npy", header.getvalue() + payload)
        archive.writestr("t.npy", _npy(np.zeros(shape[0], dtype=np.int64)))


def _npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def test_an_npz_header_announcing_terabytes_is_refused_before_allocating(tmp_path: Path) -> None:
    npy_member(tmp_path / "bomb.npz", "x", (1_000_000, 1_000_000), b"\0" * 64)
    with pytest.raises(DataError, match=r"bomb\.npz: it holds 8,000,000,000,000 bytes, more than"):
        read_user_data(tmp_path / "bomb.npz")


def test_an_npz_member_shorter_than_its_header_says(tmp_path: Path) -> None:
    npy_member(tmp_path / "short.npz", "x", (10, 64), b"\0" * 8 * 64 * 9)
    with pytest.raises(DataError, match=r"its array x ends before the 10x64 values"):
        read_user_data(tmp_path / "short.npz")


@pytest.mark.parametrize(
    ("name", "arrays", "phrase"),
    [
        (
            "names.npz",
            {"pixels": np.zeros((4, 64)), "t": np.arange(4)},
            "it has no array of images among pixels, t; name it one of x, X, x_train",
        ),
        (
            "nolabels.npz",
            {"x": np.zeros((4, 64))},
            "it has no array of labels among x; name it one of t, y, Y, t_train",
        ),
        (
            "counts.npz",
            {"x": np.zeros((4, 64)), "t": np.arange(3)},
            "t holds a (3,) array of labels for 4 images in x",
        ),
        (
            "flat.npz",
            {"x": np.zeros(64), "t": np.arange(1)},
            "x holds a (64,) float64 array where numbers with one image per row",
        ),
        (
            "negative.npz",
            {"x": np.zeros((3, 64)), "t": np.array([1, -1, 2])},
            "t holds -1 at index 1, where class indices from 0",
        ),
        (
            "fraction.npz",
            {"x": np.zeros((3, 64)), "t": np.array([1.0, 2.5, 2.0])},
            "t holds 2.5 at index 1",
        ),
        (
            "objects.npz",
            {"x": np.array([[1], "a"], dtype=object), "t": np.arange(2)},
            "its array x holds Python objects, which digitlab does not unpickle",
        ),
    ],
)
def test_a_bad_npz_says_which_array_and_what_to_do(
    tmp_path: Path, name: str, arrays: dict, phrase: str
) -> None:
    np.savez(tmp_path / name, **arrays)
    with pytest.raises(DataError) as error:
        read_user_data(tmp_path / name)
    assert str(error.value).startswith(f"cannot read {tmp_path / name}: ")
    assert phrase in str(error.value)


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("label,a,b\n1,2,x\n", "could not convert string 'x' to float64"),
        ("1,2,3\n4,5\n", "the number of columns changed from 3 to 2"),
        ("label,a\n", "it holds no samples"),
        ("1\n2\n", "it has 1 column(s), where a label and at least one pixel value"),
        ("label,a\n1.5,0\n", "column 'label' holds 1.5 at index 0"),
    ],
)
def test_a_bad_csv_says_what_is_wrong(tmp_path: Path, text: str, phrase: str) -> None:
    (tmp_path / "data.csv").write_text(text)
    with pytest.raises(DataError) as error:
        read_user_data(tmp_path / "data.csv")
    assert phrase in str(error.value)
    assert "usecols" not in str(error.value)


def test_an_idx_folder_without_labels_names_the_missing_file(digits_8x8, tmp_path: Path) -> None:
    (tmp_path / "train-images-idx3-ubyte").write_bytes(idx_bytes(digits_8x8[0]))
    with pytest.raises(DataError, match=r"it has no train-labels-idx1-ubyte or .*\.gz; put"):
        read_user_data(tmp_path)


def test_a_path_that_is_neither_data_nor_a_name(tmp_path: Path) -> None:
    with pytest.raises(DataError, match=r"no such file or folder, and it is not the name of a "):
        read_user_data(tmp_path / "nowhere.npz")
    (tmp_path / "notes.txt").write_text("digits")
    with pytest.raises(DataError, match=r"neither a folder of IDX files, an \.npz nor a \.csv"):
        read_user_data(tmp_path / "notes.txt")


def test_a_csv_larger_than_the_limit_is_refused_before_parsing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from digitlab.datasets import user

    monkeypatch.setattr(user, "MAX_CSV_BYTES", 10)
    (tmp_path / "big.csv").write_text("1,0,0,0,0,0\n")
    with pytest.raises(DataError, match=r"big\.csv: it holds 12 bytes, more than the 10 read"):
        read_user_data(tmp_path / "big.csv")


def test_to_inputs_scales_bytes_to_the_unit_interval_in_either_layout():
    from digitlab.datasets import to_inputs

    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)  # one 2x2 image
    flat = to_inputs(images, np.float32)
    assert flat.dtype == np.float32 and flat.shape == (1, 4)
    assert flat.tolist() == [[0.0, 1.0, np.float32(0.2), np.float32(0.4)]]
    images_ = to_inputs(images, np.float64, flatten=False)
    assert images_.shape == (1, 1, 2, 2) and images_[0, 0, 1, 0] == 0.2

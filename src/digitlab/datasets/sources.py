"""The named data sets, as plain data: their files, checksums, mirrors and class names.

Every data set is four IDX files with the names MNIST made standard. A `Source` says where
those files can be found: shipped inside the package, in local folders (a system package),
or on download mirrors, tried in that order. Tests point an entry elsewhere with
``monkeypatch.setitem(DATASETS, name, dataclasses.replace(DATASETS[name], mirrors=...))``.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from digitlab.errors import DataError

# The four files of every data set, in the order (x_train, t_train, x_test, t_test).
IDX_STEMS = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
GZ_NAMES = tuple(f"{stem}.gz" for stem in IDX_STEMS)

DIGITS = tuple(str(digit) for digit in range(10))
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


@dataclass(frozen=True)
class Source:
    """Where the four files of one named data set come from.

    Attributes:
        name: the name users type, e.g. ``"mnist"``.
        classes: the class names, indexed by label.
        n_train, n_test: how many training and test images the data set holds.
        sha256: SHA-256 hex digest of each ``.gz`` file, keyed by file name; checked for the
            shipped files and for every download.
        shipped_dir: the folder inside the installed package holding the files, if any.
        local_dirs: folders searched before downloading (e.g. a Debian package). Their files
            may differ byte-wise from the mirrors', so the IDX reader's size checks validate
            them, not the hashes.
        mirrors: base URLs tried in turn; a file's URL is the base followed by its name.
        fallback: the shipped data set to use instead when this one cannot be downloaded.
    """

    name: str
    classes: tuple[str, ...]
    n_train: int
    n_test: int
    sha256: Mapping[str, str]
    shipped_dir: Path | None = None
    local_dirs: tuple[Path, ...] = ()
    mirrors: tuple[str, ...] = ()
    fallback: str | None = None


def _by_file(*digests: str) -> dict[str, str]:
    """Map the four ``.gz`` file names, in `IDX_STEMS` order, to their SHA-256 digests."""
    return dict(zip(GZ_NAMES, digests, strict=True))


def _shipped(folder: str) -> Path:
    # pip installs digitlab as plain files (never zipped), so package data is a real folder.
    return Path(str(resources.files("digitlab.datasets") / folder))


DATASETS: dict[str, Source] = {
    "mnist-10k": Source(
        name="mnist-10k",
        classes=DIGITS,
        n_train=10_000,
        n_test=10_000,
        sha256=_by_file(
            "3ef602e995727b0a9aa7f5ddd860650f6d281e99ba21a746d1bfa6fea4a7f4d8",
            "dccde8b3c99723584f8090cef581b2e49d6be36b682abadf5a414714b48cf7ea",
            "167310007f03058885c7e95e6c0b19c20de5c7fd3031f4cbdadc9014a523d80b",
            "fc607395669ec21321ea83e4b82c0544b7e8e63ff5b34337c06bc0a17cc0da3c",
        ),
        shipped_dir=_shipped("mnist_10k"),
    ),
    "mnist": Source(
        name="mnist",
        classes=DIGITS,
        n_train=60_000,
        n_test=10_000,
        sha256=_by_file(
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
            "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
            "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
        ),
        mirrors=(
            "https://ossci-datasets.s3.amazonaws.com/mnist/",
            "https://storage.googleapis.com/cvdf-datasets/mnist/",
            "http://yann.lecun.com/exdb/mnist/",
        ),
        fallback="mnist-10k",
    ),
    "fashion-mnist": Source(
        name="fashion-mnist",
        classes=FASHION,
        n_train=60_000,
        n_test=10_000,
        sha256=_by_file(
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
            "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
            "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
        ),
        # Debian's dataset-fashion-mnist package.
        local_dirs=(Path("/usr/share/datasets/fashion-mnist"),),
        mirrors=(
            "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
            "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/",
        ),
    ),
}


def get_source(name: str) -> Source:
    """The registry entry called `name`, or a DataError listing the known names."""
    try:
        return DATASETS[name]
    except KeyError:
        raise unknown_dataset(name) from None


def unknown_dataset(name: str) -> DataError:
    """The error for a name that is neither a known data set nor an existing folder."""
    return DataError(
        f"unknown data set {name!r}: it is neither one of {', '.join(DATASETS)} nor an existing "
        f"folder; pick one of those names, or pass a folder holding the four IDX files "
        f"({', '.join(IDX_STEMS)}, each raw or .gz)."
    )


def has_idx_files(folder: Path) -> bool:
    """Whether `folder` holds all four IDX files (each ``.gz`` or raw)."""
    return all(_find(folder, stem) is not None for stem in IDX_STEMS)


def idx_files(folder: Path) -> tuple[Path, ...]:
    """The four IDX files in `folder`, or a DataError naming the first one missing."""
    found = []
    for stem in IDX_STEMS:
        path = _find(folder, stem)
        if path is None:
            raise DataError(
                f"cannot load the data set in {folder}: it has no {stem}.gz or {stem}; put all "
                f"four IDX files ({', '.join(IDX_STEMS)}) in that folder."
            )
        found.append(path)
    return tuple(found)


def _find(folder: Path, stem: str) -> Path | None:
    """`folder/stem.gz`, else `folder/stem`, else None."""
    for path in (folder / f"{stem}.gz", folder / stem):
        if path.is_file():
            return path
    return None

"""Checked downloads from real HTTP servers on 127.0.0.1 serving the shared MNIST files."""

import dataclasses
import hashlib
import shutil
import threading
from collections.abc import Callable, Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from digitlab.datasets import DATASETS, fetch, load_dataset
from digitlab.datasets.download import cache_root
from digitlab.errors import DataError, DownloadError

FILES = (
    "train-images-idx3-ubyte.gz",
    "train-labels-idx1-ubyte.gz",
    "t10k-images-idx3-ubyte.gz",
    "t10k-labels-idx1-ubyte.gz",
)


class Mirror(ThreadingHTTPServer):
    """An HTTP server for one folder that counts requests and can cut files short."""

    def __init__(self, folder: Path, cut_short: frozenset[str]) -> None:
        super().__init__(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
        self.url = f"http://127.0.0.1:{self.server_address[1]}/"
        self.requests: list[str] = []
        self.cut_short = cut_short


class Handler(SimpleHTTPRequestHandler):
    server: Mirror

    def do_GET(self) -> None:
        self.server.requests.append(self.path.lstrip("/"))
        path = Path(self.translate_path(self.path))
        if path.name not in self.server.cut_short:
            super().do_GET()
            return
        # Announce the whole file, send half, then close: a connection lost mid-download.
        body = path.read_bytes()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body[: len(body) // 2])

    def log_message(self, format: str, *args: object) -> None:
        pass  # keep the test output clean


@pytest.fixture(autouse=True)
def no_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy set in the environment must not stand between the tests and 127.0.0.1.
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    monkeypatch.setenv("no_proxy", "127.0.0.1")


@pytest.fixture
def serve() -> Iterator[Callable[..., Mirror]]:
    """Start mirrors: ``serve(folder, cut_short=(names...))``; all are shut down afterwards."""
    started: list[tuple[Mirror, threading.Thread]] = []

    def start(folder: Path, cut_short: tuple[str, ...] = ()) -> Mirror:
        mirror = Mirror(folder, frozenset(cut_short))
        # A short poll interval makes shutdown() return quickly at teardown.
        thread = threading.Thread(target=mirror.serve_forever, args=(0.05,), daemon=True)
        thread.start()
        started.append((mirror, thread))
        return mirror

    yield start
    for mirror, thread in started:
        mirror.shutdown()
        mirror.server_close()
        thread.join()


@pytest.fixture
def good_files(shared_data: Path, tmp_path: Path) -> Path:
    """A folder with copies of the four mnist-10k files, to serve."""
    folder = tmp_path / "served"
    shutil.copytree(shared_data / "mnist-10k", folder)
    return folder


@pytest.fixture
def use_mirrors(monkeypatch: pytest.MonkeyPatch, shared_data: Path) -> Callable[..., None]:
    """Point the `mnist` entry at the given mirrors, expecting the mnist-10k files' hashes."""
    sha256 = {
        name: hashlib.sha256((shared_data / "mnist-10k" / name).read_bytes()).hexdigest()
        for name in FILES
    }

    def point(*mirrors: str) -> None:
        entry = dataclasses.replace(
            DATASETS["mnist"], mirrors=mirrors, sha256=sha256, n_train=10_000
        )
        monkeypatch.setitem(DATASETS, "mnist", entry)

    return point


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_download_is_checked_cached_and_not_repeated(
    serve, good_files: Path, use_mirrors, cache: Path, shared_data: Path
) -> None:
    mirror = serve(good_files)
    use_mirrors(mirror.url)
    folder = fetch("mnist", cache_dir=cache)  # with the progress bar, as users see it
    assert folder == cache / "mnist"
    assert sorted(mirror.requests) == sorted(FILES)
    for name in FILES:
        assert (folder / name).read_bytes() == (shared_data / "mnist-10k" / name).read_bytes()

    assert fetch("mnist", cache_dir=cache, progress=False) == folder
    data = load_dataset("mnist", cache_dir=cache, progress=False)
    assert len(mirror.requests) == 4  # both served from the cache
    assert data.name == "mnist" and data.t_train[0] == 5 and data.source == str(folder)


def test_cache_dir_comes_from_the_environment(
    serve, good_files: Path, use_mirrors, cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGITLAB_DATA_DIR", str(cache))
    assert cache_root() == cache
    assert cache_root(cache / "elsewhere") == cache / "elsewhere"
    mirror = serve(good_files)
    use_mirrors(mirror.url)
    assert fetch("mnist", progress=False) == cache / "mnist"


def test_corrupt_file_is_rejected_and_not_kept(
    serve, good_files: Path, use_mirrors, cache: Path
) -> None:
    labels = good_files / "train-labels-idx1-ubyte.gz"
    data = bytearray(labels.read_bytes())
    data[100] ^= 0xFF
    labels.write_bytes(bytes(data))
    mirror = serve(good_files)
    use_mirrors(mirror.url)
    with pytest.raises(DownloadError) as error:
        fetch("mnist", cache_dir=cache, progress=False)
    message = str(error.value)
    assert message.startswith(
        f"cannot download train-labels-idx1-ubyte.gz for mnist: tried {mirror.url} (the "
        "downloaded file's SHA-256 does not match"
    )
    assert "in a folder and pass it with `--data PATH`" in message
    # Only the file before it, complete and checked: no temporary or half file.
    assert [path.name for path in (cache / "mnist").iterdir()] == ["train-images-idx3-ubyte.gz"]


def test_connection_lost_mid_file_leaves_no_half_file(
    serve, good_files: Path, use_mirrors, cache: Path
) -> None:
    mirror = serve(good_files, cut_short=("train-images-idx3-ubyte.gz",))
    use_mirrors(mirror.url)
    with pytest.raises(DownloadError) as error:
        fetch("mnist", cache_dir=cache, progress=False)
    assert str(error.value).startswith(
        f"cannot download train-images-idx3-ubyte.gz for mnist: tried {mirror.url} (the "
        "connection broke off before the end of the file)"
    )
    assert list((cache / "mnist").iterdir()) == []


def test_server_down(dead_mirror: str, use_mirrors, cache: Path) -> None:
    use_mirrors(dead_mirror)
    with pytest.raises(DownloadError) as error:
        fetch("mnist", cache_dir=cache, progress=False)
    assert isinstance(error.value, DataError)
    assert f"tried {dead_mirror} (cannot connect)" in str(error.value)


def test_every_mirror_is_named_with_its_reason(
    serve, tmp_path: Path, dead_mirror: str, use_mirrors, cache: Path
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    mirror = serve(empty)
    use_mirrors(dead_mirror, mirror.url)
    with pytest.raises(DownloadError) as error:
        fetch("mnist", cache_dir=cache, progress=False)
    assert f"tried {dead_mirror} (cannot connect), {mirror.url} (HTTP 404 File not found);" in str(
        error.value
    )


def test_broken_first_mirror_falls_through_to_the_second(
    serve, good_files: Path, tmp_path: Path, use_mirrors, cache: Path
) -> None:
    broken_files = tmp_path / "broken"
    shutil.copytree(good_files, broken_files)
    images = broken_files / "t10k-images-idx3-ubyte.gz"
    images.write_bytes(images.read_bytes()[:1000])
    broken = serve(broken_files, cut_short=("train-images-idx3-ubyte.gz",))
    good = serve(good_files)
    use_mirrors(broken.url, good.url)
    folder = fetch("mnist", cache_dir=cache, progress=False)
    assert sorted(path.name for path in folder.iterdir()) == sorted(FILES)
    # Each file is asked of the first mirror first; the two it spoils come from the second.
    assert sorted(broken.requests) == sorted(FILES)
    assert sorted(good.requests) == ["t10k-images-idx3-ubyte.gz", "train-images-idx3-ubyte.gz"]
    assert len(load_dataset("mnist", cache_dir=cache, progress=False).t_test) == 10_000


def test_cached_files_need_no_network(
    serve, good_files: Path, use_mirrors, cache: Path, dead_mirror: str
) -> None:
    use_mirrors(serve(good_files).url)
    fetch("mnist", cache_dir=cache, progress=False)
    use_mirrors(dead_mirror)
    # No fallback warning (warnings are errors here): the cached full set is used.
    assert load_dataset("mnist", cache_dir=cache, progress=False).name == "mnist"


def test_unwritable_cache_is_a_data_error(
    serve, good_files: Path, use_mirrors, tmp_path: Path
) -> None:
    use_mirrors(serve(good_files).url)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    with pytest.raises(DataError, match=r"set DIGITLAB_DATA_DIR to a writable folder"):
        fetch("mnist", cache_dir=blocker, progress=False)

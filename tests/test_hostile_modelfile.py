"""Hostile model files: every value of the metadata and every stored array is checked before it is
used or allocated; whatever the bytes, `load` returns a network or raises one ModelFileError."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from digitlab import ModelFileError, TwoLayerNet, modelfile
from hostile import JSON_VALUES, SETTINGS


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    return modelfile.save(TwoLayerNet(8, 4, 3, seed=0), tmp_path_factory.mktemp("m") / "m.npz")


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(path: Path, content: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in content.items():
            zf.writestr(name, data)
    return path


def forged(saved: Path, out: Path, change) -> Path:
    """The model with its metadata changed and re-signed (a forger recomputes the checksum: it
    is no signature), so that the check under test is the one that refuses it."""
    content = members(saved)
    meta = json.loads(content["metadata.json"])
    change(meta)
    meta["metadata_sha256"] = modelfile.npz._metadata_digest(meta)
    content["metadata.json"] = json.dumps(meta).encode()
    return write_zip(out, content)


def load_or_refuse(path: Path):
    try:
        return modelfile.load(path)
    except ModelFileError as error:
        assert "\n" not in str(error)
        return None


@SETTINGS
@given(data=st.data())
def test_mutated_model_files_load_or_are_refused(saved, tmp_path_factory, data):
    raw = bytearray(saved.read_bytes())
    for _ in range(data.draw(st.integers(1, 6))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(raw) // 2, len(raw)))
    path = tmp_path_factory.mktemp("mut") / "model.npz"
    path.write_bytes(bytes(raw[:cut]))
    network = load_or_refuse(path)
    if network is not None:  # only a change the checksums cannot see (zip padding) loads
        reference = modelfile.load(saved)
        for name, value in reference.params.items():
            np.testing.assert_array_equal(network.params[name], value)


@SETTINGS
@given(
    key=st.sampled_from(["classes", "normalization", "network", "arrays", "format_version"]),
    value=JSON_VALUES,
)
def test_type_confused_metadata_loads_or_is_refused(saved, tmp_path_factory, key, value):
    def change(meta):
        meta[key] = value

    path = forged(saved, tmp_path_factory.mktemp("meta") / "model.npz", change)
    load_or_refuse(path)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("classes", 5, "not a list of class names"),
        ("classes", ["a", "b"], "names 2 classes but the network has 3 outputs"),
        ("normalization", "abc", "normalization is 'abc'"),
        ("normalization", {"mean": 0.1, "std": 0}, "positive std"),
    ],
)
def test_metadata_values_are_checked(saved, tmp_path, key, value, message):
    path = forged(saved, tmp_path / "model.npz", lambda meta: meta.__setitem__(key, value))
    with pytest.raises(ModelFileError, match=message):
        modelfile.load(path)


def test_deeply_nested_metadata_is_refused(saved, tmp_path):
    content = members(saved)
    content["metadata.json"] = b"[" * 100_000 + b"]" * 100_000
    with pytest.raises(ModelFileError, match="not a digitlab model file"):
        modelfile.load(write_zip(tmp_path / "nested.npz", content))


def test_nan_weights_are_refused(tmp_path):
    network = TwoLayerNet(8, 4, 3, seed=0)
    network.params["W2"][0, 0] = np.nan
    path = modelfile.save(network, tmp_path / "nan.npz")
    with pytest.raises(ModelFileError, match="W2 hold NaN or infinity"):
        modelfile.load(path)


def test_a_huge_architecture_is_refused_with_its_estimate(saved, tmp_path):
    def change(meta):
        meta["network"]["sizes"] = [784, 3_000_000, 10]

    with pytest.raises(ModelFileError, match=r"2,385,000,010 weights: training needs about"):
        modelfile.load(forged(saved, tmp_path / "huge.npz", change))


def bounded(path: Path, limit_mb: int = 600) -> subprocess.CompletedProcess:
    """Load `path` in a child process whose address space is capped at `limit_mb`."""
    script = textwrap.dedent(
        f"""
        import resource
        resource.setrlimit(resource.RLIMIT_AS, ({limit_mb} << 20, {limit_mb} << 20))
        from digitlab import ModelFileError, modelfile
        try:
            modelfile.load({str(path)!r})
        except ModelFileError as error:
            print("refused:", error)
        """
    )
    return subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={"OPENBLAS_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"},
    )


def test_padded_metadata_is_not_read_whole(saved, tmp_path):
    """metadata.json of 2 GiB (a few MB compressed): refused from its zip entry's size."""
    content = members(saved)
    path = tmp_path / "padded.npz"
    # deflate level 1: the 2 GiB of spaces compress in a third of the default level's time
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for name, data in content.items():
            if name != "metadata.json":
                zf.writestr(name, data)
        with zf.open("metadata.json", "w", force_zip64=True) as member:
            member.write(content["metadata.json"][:-1])
            chunk = b" " * (64 << 20)
            for _ in range(32):
                member.write(chunk)
            member.write(b"}")
    done = bounded(path)
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "over the limit of 8,388,608" in done.stdout


def test_an_array_header_announcing_gigabytes_is_not_allocated(saved, tmp_path):
    """A W1.npy whose header (and the metadata, re-signed) says 20000x20000 float64 (3.2 GB),
    with a few bytes of data: refused from the header, under a 600 MB address-space cap."""
    header = np.lib.format.header_data_from_array_1_0(np.zeros((1, 1)))
    header["shape"] = (20_000, 20_000)
    stored = bytearray()

    class Sink:
        def write(self, data):
            stored.extend(data)

    np.lib.format.write_array_header_1_0(Sink(), header)
    content = members(saved)
    content["W1.npy"] = bytes(stored) + b"\0" * 64
    meta = json.loads(content["metadata.json"])
    meta["arrays"]["W1"]["shape"] = [20_000, 20_000]
    meta["metadata_sha256"] = modelfile.npz._metadata_digest(meta)
    content["metadata.json"] = json.dumps(meta).encode()
    done = bounded(write_zip(tmp_path / "big-header.npz", content))
    assert done.returncode == 0, done.stderr
    assert "refused:" in done.stdout and "W1 is stored as float64[20000, 20000]" in done.stdout


# -- checkpoints: every field checked before --resume puts it back ---------------------------------


@pytest.fixture(scope="module")
def checkpoint_file(tmp_path_factory) -> Path:
    from digitlab import Trainer
    from digitlab.train.optimizers import Adam

    network = TwoLayerNet(8, 4, 3, seed=0, dropout=0.2)
    trainer = Trainer(network, Adam(0.01), epochs=1, progress=False, log=None, seed=1)
    trainer.fit(np.random.default_rng(0).random((20, 8)), np.arange(20) % 3)
    return modelfile.save_checkpoint(tmp_path_factory.mktemp("ck") / "c.npz", trainer)


def restore_forged(checkpoint_file: Path, out: Path, change):
    from digitlab import Trainer
    from digitlab.train.optimizers import Adam

    checkpoint = modelfile.load_checkpoint(forged(checkpoint_file, out, change))
    trainer = Trainer(checkpoint.network, Adam(0.01), epochs=1, progress=False, log=None)
    checkpoint.restore(trainer)
    return trainer


@pytest.mark.parametrize(
    "change, field",
    [
        (lambda m: m["history"].__setitem__("loss", "abc"), "history.loss"),
        (lambda m: m["history"].__setitem__("nonsense", 1), "history"),
        (lambda m: m["optimizer"]["scalars"].__setitem__("lr", "fast"), "optimizer.lr"),
        (lambda m: m["optimizer"]["scalars"].__setitem__("t", 1.5), "optimizer.t"),
        (lambda m: m["random_state"].__setitem__("rng", {"state": 1}), "random_state"),
        (
            lambda m: m["optimizer"]["buffers"].__setitem__(
                "_scratch", {"W1": [[10**12], "float64"]}
            ),
            "optimizer._scratch/W1",
        ),
    ],
)
def test_damaged_checkpoint_fields_are_refused_on_resume(checkpoint_file, tmp_path, change, field):
    with pytest.raises(ModelFileError, match=f"checkpoint's {field}"):
        restore_forged(checkpoint_file, tmp_path / "c.npz", change)


@SETTINGS
@given(
    key=st.sampled_from(["history", "random_state", "optimizer", "epoch", "training"]),
    value=JSON_VALUES,
)
def test_any_checkpoint_field_resumes_or_is_refused(checkpoint_file, tmp_path_factory, key, value):
    def change(meta):
        meta[key] = value

    try:
        restore_forged(checkpoint_file, tmp_path_factory.mktemp("ck") / "c.npz", change)
    except ModelFileError as error:
        assert "\n" not in str(error)

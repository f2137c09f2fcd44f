"""Model files: exact round trip, and a clear refusal of every malformed file."""

import json
import zipfile

import numpy as np
import pytest

from digitlab import MLP, ModelFileError, TwoLayerNet, modelfile


@pytest.mark.parametrize(
    "network",
    [
        TwoLayerNet(784, 30, 10, seed=0),
        TwoLayerNet(784, 20, 10, activation="sigmoid", seed=1, dtype="float32"),
        MLP(784, [16, 8], 10, seed=2),
    ],
    ids=repr,
)
def test_round_trip_gives_the_same_predictions_to_the_bit(tmp_path, network):
    x = np.random.default_rng(0).random((20, 784)).astype(network.dtype)
    path = modelfile.save(network, tmp_path / "model.npz", dataset="mnist-10k")
    loaded = modelfile.load(path)
    assert type(loaded) is type(network) and repr(loaded) == repr(network)
    assert np.array_equal(loaded.predict(x), network.predict(x))
    assert loaded.metadata["dataset"] == "mnist-10k"
    # Plain NumPy reads the arrays without unpickling anything.
    with np.load(path, allow_pickle=False) as npz:
        assert np.array_equal(npz["W1"], network.params["W1"])


def rewrite(path, change_meta=None, drop=None, replace=None):
    """Copy a model file with its metadata changed, a member dropped or replaced."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    meta = json.loads(members["metadata.json"])
    if change_meta:
        change_meta(meta)
    members["metadata.json"] = json.dumps(meta).encode()
    if drop:
        del members[drop]
    if replace:
        members.update(replace)
    out = path.with_name("changed.npz")
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out


@pytest.fixture
def saved(tmp_path):
    return modelfile.save(TwoLayerNet(8, 4, 3, seed=0), tmp_path / "model.npz")


def npy_bytes(array):
    import io

    buf = io.BytesIO()
    np.lib.format.write_array(buf, array)
    return buf.getvalue()


def test_newer_format_version_is_refused(saved):
    bad = rewrite(saved, change_meta=lambda m: m.update(format_version=99))
    with pytest.raises(ModelFileError, match=r"format version 99.*upgrade digitlab"):
        modelfile.load(bad)


def test_missing_array_is_refused(saved):
    with pytest.raises(ModelFileError, match="'b2' is missing"):
        modelfile.load(rewrite(saved, drop="b2.npy"))


def test_shape_contradicting_the_metadata_is_refused(saved):
    bad = rewrite(saved, replace={"W1.npy": npy_bytes(np.zeros((8, 5)))})
    with pytest.raises(ModelFileError, match=r"W1 is float64\[8, 5\] but the architecture needs"):
        modelfile.load(bad)


def test_tampered_weights_are_refused(saved):
    with np.load(saved) as npz:
        w = npz["W2"].copy()
    w[0, 0] += 1.0
    bad = rewrite(saved, replace={"W2.npy": npy_bytes(w)})
    with pytest.raises(ModelFileError, match="W2 does not match the checksum"):
        modelfile.load(bad)


def test_pickled_array_is_refused_not_unpickled(saved):
    obj = np.array([{"evil": 1}], dtype=object)
    bad = rewrite(saved, replace={"b1.npy": npy_bytes(obj)})
    with pytest.raises(ModelFileError, match="b1"):
        modelfile.load(bad)


def test_not_a_model_file(tmp_path):
    junk = tmp_path / "junk.npz"
    junk.write_bytes(b"not a zip at all")
    with pytest.raises(ModelFileError, match=r"junk\.npz: it is not a digitlab model file"):
        modelfile.load(junk)
    np.savez(tmp_path / "plain.npz", W1=np.zeros(3))
    with pytest.raises(ModelFileError, match="not a digitlab model file"):
        modelfile.load(tmp_path / "plain.npz")
    with pytest.raises(ModelFileError, match="no such file"):
        modelfile.load(tmp_path / "absent.npz")


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", fail)
    with pytest.raises(OSError, match="disk full"):
        modelfile.save(TwoLayerNet(8, 4, 3), tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []

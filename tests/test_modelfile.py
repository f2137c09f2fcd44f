"""Model files: exact round trip of every network type, a clear refusal of every malformed
file, atomic writes, the shipped default model, and checkpoints that resume a run exactly."""

import io
import json
import zipfile

import numpy as np
import pytest

from digitlab import MLP, ModelFileError, Trainer, TwoLayerNet, modelfile
from digitlab.train.optimizers import SGD, Adam, Momentum


def trained(network, x, t, steps=3):
    """The network after a few SGD steps in training mode, so BatchNorm's running statistics
    are no longer their initial 0 and 1 (a file that forgot them would then differ)."""
    for _ in range(steps):
        _loss, grads = network.loss_and_gradient(x, t)
        SGD(0.1).update(network.params, grads)
    return network


NETWORKS = [
    lambda: TwoLayerNet(784, 30, 10, seed=0),
    lambda: TwoLayerNet(784, 20, 10, activation="sigmoid", seed=1, dtype="float32"),
    lambda: MLP(784, [16, 8], 10, seed=2),
    lambda: MLP(784, [12, 12, 12], 10, activation="tanh", seed=3, dtype="float32"),
    lambda: MLP(784, [16], 10, activation="leaky_relu", seed=4),
    lambda: MLP(784, [16, 8], 10, use_batchnorm=True, seed=5),
    lambda: MLP(784, [16], 10, dropout=0.3, weight_decay=1e-3, seed=6, dtype="float32"),
    lambda: MLP(784, [], 10, seed=7),
]


@pytest.mark.parametrize("make", NETWORKS, ids=lambda make: repr(make()).replace("→", "-"))
def test_round_trip_gives_the_same_predictions_to_the_bit(tmp_path, make, mnist_10k_inputs):
    x_train, t_train, x_test, _t_test = mnist_10k_inputs
    network = trained(make(), x_train[:64].astype(make().dtype), t_train[:64])
    x = x_test[:50].astype(network.dtype)
    path = modelfile.save(network, tmp_path / "model.npz", dataset="mnist-10k")
    loaded = modelfile.load(path)
    assert type(loaded) is type(network) and repr(loaded) == repr(network)
    assert loaded.config() == network.config()
    assert np.array_equal(loaded.predict(x), network.predict(x))
    for name, array in network.state().items():
        assert np.array_equal(loaded.state()[name], array)
    assert loaded.metadata["dataset"] == "mnist-10k"
    assert loaded.metadata["architecture"] == repr(network)
    # Plain NumPy reads the arrays without unpickling anything.
    with np.load(path, allow_pickle=False) as npz:
        assert np.array_equal(npz["W1"], network.params["W1"])
        assert {n for n in npz.files if n.startswith("state/")} == {
            f"state/{n}" for n in network.state()
        }


def test_batchnorm_running_statistics_are_saved(tmp_path, mnist_10k_inputs):
    x, t = mnist_10k_inputs[0][:64], mnist_10k_inputs[1][:64]
    network = trained(MLP(784, [16], 10, use_batchnorm=True, seed=0), x.astype(float), t)
    assert not np.allclose(network.state()["running_mean1"], 0)
    loaded = modelfile.load(modelfile.save(network, tmp_path / "bn.npz"))
    assert np.array_equal(loaded.state()["running_mean1"], network.state()["running_mean1"])
    assert np.array_equal(loaded.state()["running_var1"], network.state()["running_var1"])


def test_metadata_records_what_a_model_is(tmp_path):
    network = TwoLayerNet(784, 8, 10, seed=0, dtype="float32")
    classes = [str(i) for i in range(10)]
    path = modelfile.save(
        network,
        tmp_path / "m.npz",
        dataset="mnist-10k",
        classes=classes,
        normalization={"scale": "pixel / 255"},
        accuracy={"test": np.float64(0.5)},  # NumPy numbers are written as plain JSON
    )
    meta = modelfile.read_metadata(path)
    assert meta["format"] == "digitlab-model" and meta["format_version"] == 2
    assert meta["kind"] == "model"
    assert meta["network"] == network.config()
    assert meta["classes"] == classes and meta["accuracy"] == {"test": 0.5}
    assert meta["created"].endswith("+00:00") and meta["digitlab_version"]
    assert set(meta["arrays"]) == {"W1", "b1", "W2", "b2"}
    assert meta["arrays"]["W1"] == {
        "shape": [784, 8],
        "dtype": "float32",
        "sha256": modelfile.npz._digest(network.params["W1"]),
    }
    # Saving a loaded network keeps what it knew of its training.
    again = modelfile.save(modelfile.load(path), tmp_path / "again.npz")
    assert modelfile.read_metadata(again)["classes"] == classes


# -- malformed files ----------------------------------------------------------------------------


def rewrite(path, change_meta=None, drop=None, replace=None, resign=False):
    """Copy a model file with its metadata changed, a member dropped or replaced; resign:
    recompute the metadata's checksum, as a careful forger (or an old tool) would."""
    with zipfile.ZipFile(path) as zf:
        members = {name: zf.read(name) for name in zf.namelist()}
    meta = json.loads(members["metadata.json"])
    if change_meta:
        change_meta(meta)
    if resign:
        meta["metadata_sha256"] = modelfile.npz._metadata_digest(meta)
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
    buf = io.BytesIO()
    np.lib.format.write_array(buf, array, allow_pickle=True)
    return buf.getvalue()


def test_an_unchanged_copy_loads(saved):
    assert modelfile.load(rewrite(saved)).sizes == [8, 4, 3]


def test_newer_format_version_is_refused(saved):
    bad = rewrite(saved, change_meta=lambda m: m.update(format_version=99))
    with pytest.raises(ModelFileError, match=r"format version 99.*upgrade digitlab"):
        modelfile.load(bad)


def test_version_1_files_still_load(saved):
    def as_version_1(meta):
        meta["format_version"] = 1
        del meta["metadata_sha256"]

    old = modelfile.load(rewrite(saved, change_meta=as_version_1))
    assert old.sizes == [8, 4, 3]


def test_missing_array_is_refused(saved):
    with pytest.raises(ModelFileError, match="'b2' is missing"):
        modelfile.load(rewrite(saved, drop="b2.npy"))


def test_missing_state_array_is_refused(tmp_path):
    path = modelfile.save(MLP(8, [4], 3, use_batchnorm=True, seed=0), tmp_path / "bn.npz")

    def forget(meta):
        del meta["arrays"]["state/running_var1"]

    bad = rewrite(path, change_meta=forget, drop="state/running_var1.npy", resign=True)
    with pytest.raises(ModelFileError, match="'state/running_var1' is missing"):
        modelfile.load(bad)


def test_shape_contradicting_the_metadata_is_refused(saved):
    bad = rewrite(saved, replace={"W1.npy": npy_bytes(np.zeros((8, 5)))})
    with pytest.raises(ModelFileError, match=r"W1 is stored as float64\[8, 5\] but the metadata"):
        modelfile.load(bad)


def test_shape_contradicting_the_architecture_is_refused(saved):
    """Array and its metadata entry agree (a consistent forgery), the architecture does not."""
    wrong = np.zeros((8, 5))

    def forge(meta):
        meta["arrays"]["W1"] = {
            "shape": [8, 5],
            "dtype": "float64",
            "sha256": modelfile.npz._digest(wrong),
        }

    bad = rewrite(saved, change_meta=forge, replace={"W1.npy": npy_bytes(wrong)}, resign=True)
    with pytest.raises(ModelFileError, match=r"W1 is float64\[8, 5\] but the architecture needs"):
        modelfile.load(bad)


def test_tampered_weights_are_refused(saved):
    with np.load(saved) as npz:
        w = npz["W2"].copy()
    w[0, 0] += 1.0
    bad = rewrite(saved, replace={"W2.npy": npy_bytes(w)})
    with pytest.raises(ModelFileError, match="W2 does not match the checksum"):
        modelfile.load(bad)


def test_tampered_metadata_is_refused(saved):
    """Changing the activation keeps every array intact and would silently change the
    network's answers: the metadata's own checksum catches it."""
    bad = rewrite(saved, change_meta=lambda m: m["network"].update(activation="sigmoid"))
    with pytest.raises(ModelFileError, match="metadata does not match its checksum"):
        modelfile.load(bad)


def test_unlisted_array_is_refused(saved):
    bad = rewrite(saved, replace={"extra_W.npy": npy_bytes(np.zeros(3))})
    with pytest.raises(ModelFileError, match="'extra_W', which its metadata does not list"):
        modelfile.load(bad)


def test_class_names_that_contradict_the_outputs_are_refused(tmp_path):
    path = modelfile.save(TwoLayerNet(8, 4, 3, seed=0), tmp_path / "m.npz", classes=["a", "b"])
    with pytest.raises(ModelFileError, match="names 2 classes but the network has 3 outputs"):
        modelfile.load(path)


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
    with pytest.raises(ModelFileError, match="it is a folder"):
        modelfile.load(tmp_path)


def test_a_failed_write_leaves_no_file(tmp_path, monkeypatch):
    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(np.lib.format, "write_array", fail)
    with pytest.raises(OSError, match="disk full"):
        modelfile.save(TwoLayerNet(8, 4, 3), tmp_path / "model.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_overwrite_keeps_the_old_model(tmp_path, monkeypatch):
    old = TwoLayerNet(8, 4, 3, seed=0)
    path = modelfile.save(old, tmp_path / "model.npz")
    before = path.read_bytes()
    calls = {"n": 0}
    real = np.lib.format.write_array

    def crash_midway(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 3:  # after two arrays are written: a half model in the temp file
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(np.lib.format, "write_array", crash_midway)
    with pytest.raises(KeyboardInterrupt):
        modelfile.save(TwoLayerNet(8, 4, 3, seed=1), path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]


# -- the default model --------------------------------------------------------------------------


def test_the_shipped_default_model_is_the_conv_net_and_reads_digits(mnist_10k_inputs):
    # the model that read real handwriting best (benchmarks/default_model.py), made by the
    # command its metadata keeps; 4 MB of float32 weights
    path = modelfile.default_model_path()
    assert path.is_file() and path.stat().st_size < 5_000_000
    network = modelfile.load_default()
    meta = network.metadata
    assert type(network).__name__ == "SimpleConvNet" and meta["dataset"] == "mnist-10k"
    assert meta["training"]["hidden"] == [256] and meta["training"]["augment"] is True
    assert meta["classes"] == [str(i) for i in range(10)]
    x_test, t_test = mnist_10k_inputs[2], mnist_10k_inputs[3]
    assert network.accuracy(x_test, t_test) > 0.985
    assert meta["accuracy"]["test"] == pytest.approx(network.accuracy(x_test, t_test))


def test_a_missing_default_model_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setattr(modelfile.npz, "default_model_path", lambda: tmp_path / "default.npz")
    with pytest.raises(ModelFileError, match="not installed; pass a model with --model"):
        modelfile.load_default()


# -- checkpoints --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("make_optimizer", "network_options"),
    [
        (lambda: SGD(0.3), {}),
        (lambda: Momentum(0.05), {"use_batchnorm": True}),
        (lambda: Adam(0.002), {"dropout": 0.2}),
    ],
    ids=["SGD", "Momentum+BatchNorm", "Adam+Dropout"],
)
def test_a_resumed_run_is_the_uninterrupted_run_bit_for_bit(
    tmp_path, mnist_10k_inputs, make_optimizer, network_options
):
    x, t = mnist_10k_inputs[0][:1500], mnist_10k_inputs[1][:1500]

    def network():
        return MLP(784, [16], 10, seed=0, dtype="float32", **network_options)

    def trainer(net, epochs, callbacks=()):
        options = {"seed": 1, "progress": False, "log": None, "callbacks": callbacks}
        return Trainer(net, make_optimizer(), epochs=epochs, **options)

    straight = network()
    trainer(straight, 4).fit(x, t)

    path = tmp_path / "checkpoint.npz"
    trainer(network(), 2, [modelfile.CheckpointEachEpoch(path, {"dataset": "x"})]).fit(x, t)
    checkpoint = modelfile.load_checkpoint(path)
    assert checkpoint.epoch == 2 and checkpoint.metadata["dataset"] == "x"
    resumed = trainer(checkpoint.network, 2)
    checkpoint.restore(resumed)
    history = resumed.fit(x, t)

    assert history.epochs == 4 and len(history.loss) == 4 * 15
    for name, array in straight.params.items():
        assert np.array_equal(checkpoint.network.params[name], array), name
    for name, array in straight.state().items():
        assert np.array_equal(checkpoint.network.state()[name], array), name


def test_a_checkpoint_is_also_a_model_file_but_a_model_is_no_checkpoint(tmp_path):
    network = TwoLayerNet(8, 4, 3, seed=0)
    trainer = Trainer(network, Momentum(0.1), epochs=1, progress=False, log=None)
    trainer.fit(np.random.default_rng(0).random((20, 8)), np.arange(20) % 3)
    path = modelfile.save_checkpoint(tmp_path / "c.npz", trainer, extras={"n": np.arange(3)})
    assert np.array_equal(modelfile.load(path).params["W1"], network.params["W1"])
    checkpoint = modelfile.load_checkpoint(path)
    assert np.array_equal(checkpoint.extras["n"], np.arange(3))
    assert checkpoint.optimizer["type"] == "Momentum"
    model = modelfile.save(network, tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match="it is a model file, not a checkpoint"):
        modelfile.load_checkpoint(model)
    with pytest.raises(ModelFileError, match="optimizer is Momentum"):
        modelfile.restore_optimizer(SGD(0.1), checkpoint.optimizer)

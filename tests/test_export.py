"""digitlab.export: ONNX (checked in ONNX Runtime), PyTorch and safetensors give the network's
own probabilities; safetensors comes back bit for bit; what a format cannot take is refused."""

import json
import sys

import numpy as np
import pytest

from digitlab import MLP, ConfigError, ConvNet, ModelFileError, load, save
from digitlab.cli import main
from digitlab.export import read_safetensors, to_onnx, to_safetensors, to_torch, torch_code
from digitlab.modelfile import load_default
from digitlab.nn.layers import Layer

ort = pytest.importorskip("onnxruntime")
torch = pytest.importorskip("torch")
safetensors = pytest.importorskip("safetensors.numpy")

#: every kind of layer digitlab has, on odd sizes: padded average and max pooling, BatchNorm on
#: images and on units, each activation, dropout
EVERY_LAYER = [
    {"type": "conv", "filters": 3, "size": 3, "stride": 2, "pad": 1},
    {"type": "batchnorm"},
    {"type": "relu"},
    {"type": "pool", "size": 3, "stride": 1, "pad": 1, "mode": "average"},
    {"type": "conv", "filters": 4, "size": 2},
    {"type": "tanh"},
    {"type": "pool", "size": 2, "stride": 2, "pad": 1},
    {"type": "affine", "units": 6},
    {"type": "batchnorm"},
    {"type": "leaky_relu"},
    {"type": "dropout", "p": 0.3},
    {"type": "affine", "units": 5},
    {"type": "sigmoid"},
    {"type": "affine", "units": 3},
]


def _trained(network, x, t):
    """A few training steps, so BatchNorm's running statistics are not their start values."""
    for _ in range(5):
        _loss, grads = network.loss_and_gradient(x, t)
        for name, grad in grads.items():
            network.params[name] -= 0.1 * grad
    return network


def _onnx_probabilities(network, x, tmp_path):
    path = to_onnx(network, tmp_path / "model.onnx")
    session = ort.InferenceSession(str(path))
    return session.run(None, {"x": x.astype(np.float32)})[0]


def _torch_probabilities(network, x):
    with torch.no_grad():
        return to_torch(network)(torch.from_numpy(x.astype(np.float32))).numpy()


@pytest.fixture(scope="module")
def test_images():
    from digitlab.datasets import load_mnist

    (_x, _t), (x_test, t_test) = load_mnist(flatten=False, dataset="mnist-10k")
    return x_test, t_test


def test_the_shipped_model_gives_its_probabilities_in_onnx_runtime_and_torch(test_images, tmp_path):
    x_test = test_images[0][:2000]  # 2,000 test digits: every path of the conv net, 20 batches
    network = load_default()
    ours = network.predict(x_test)
    np.testing.assert_allclose(_onnx_probabilities(network, x_test, tmp_path), ours, atol=1e-5)
    np.testing.assert_allclose(_torch_probabilities(network, x_test), ours, atol=1e-5)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_every_layer_exports_to_onnx_and_torch(dtype, tmp_path):
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((16, 2, 9, 7)), rng.integers(0, 3, 16)
    network = _trained(ConvNet((2, 9, 7), EVERY_LAYER, seed=1, dtype=dtype), x, t)
    assert not np.allclose(network.state()["running_mean1"], 0)
    ours = network.predict(x)
    np.testing.assert_allclose(_onnx_probabilities(network, x, tmp_path), ours, atol=1e-5)
    np.testing.assert_allclose(_torch_probabilities(network, x), ours, atol=1e-5)


def test_an_mlp_with_batchnorm_and_dropout_exports(tmp_path):
    rng = np.random.default_rng(2)
    x, t = rng.random((20, 30)), rng.integers(0, 4, 20)
    network = _trained(MLP(30, [12, 8], 4, use_batchnorm=True, dropout=0.2, seed=0), x, t)
    ours = network.predict(x)
    np.testing.assert_allclose(_onnx_probabilities(network, x, tmp_path), ours, atol=1e-5)
    np.testing.assert_allclose(_torch_probabilities(network, x), ours, atol=1e-5)
    assert "nn.BatchNorm1d(12" in torch_code(network)


def test_safetensors_come_back_bit_for_bit_with_the_metadata(tmp_path):
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((8, 2, 9, 7)), rng.integers(0, 3, 8)
    network = _trained(ConvNet((2, 9, 7), EVERY_LAYER, seed=4), x, t)
    path = to_safetensors(network, tmp_path / "m.safetensors", classes=["a", "b", "c"])
    for again in (read_safetensors(path), load(path)):  # digitlab.load knows the suffix
        assert type(again) is ConvNet and again.metadata["classes"] == ["a", "b", "c"]
        for name, value in network.params.items():
            assert again.params[name].dtype == value.dtype
            np.testing.assert_array_equal(again.params[name], value)
        for name, value in network.state().items():
            np.testing.assert_array_equal(again.state()[name], value)
    # a checkpoint's keys stay behind, as digitlab.save leaves them
    again.metadata["history"] = {"loss": [1.0]}
    resaved = read_safetensors(to_safetensors(again, tmp_path / "again.safetensors"))
    assert "history" not in resaved.metadata and resaved.metadata["classes"] == ["a", "b", "c"]
    # what other tools see: plain tensors under the params' names, and a JSON header
    stored = safetensors.load_file(str(path))
    np.testing.assert_array_equal(stored["W1"], network.params["W1"])


def _safetensors_file(tmp_path, tensors, metadata):
    path = tmp_path / "x.safetensors"
    path.write_bytes(safetensors.save(tensors, metadata=metadata))
    return path


def test_a_hostile_or_foreign_safetensors_file_is_refused_with_its_name(tmp_path):
    network = MLP(6, [4], 3, seed=0)
    good = to_safetensors(network, tmp_path / "good.safetensors")
    meta = json.loads(safetensors_metadata(good))
    arrays = safetensors.load_file(str(good))
    cases = {
        "no digitlab metadata": (arrays, {"format": "pt"}),
        "altered or damaged": ({**arrays, "W1": arrays["W1"] + 1}, {"digitlab": json.dumps(meta)}),
        "does not list": ({**arrays, "extra": np.zeros(2)}, {"digitlab": json.dumps(meta)}),
        "is stored as float32": (
            {**arrays, "W1": arrays["W1"].astype(np.float32)},
            {"digitlab": json.dumps(meta)},
        ),
        "not a digitlab model file|format": (arrays, {"digitlab": "[1, 2]"}),
    }
    for phrase, (tensors, metadata) in cases.items():
        path = _safetensors_file(tmp_path, tensors, metadata)
        with pytest.raises(ModelFileError, match=phrase) as error:
            load(path)
        assert "x.safetensors" in str(error.value)
    garbage = tmp_path / "garbage.safetensors"
    garbage.write_bytes(b"\xff" * 64)
    with pytest.raises(ModelFileError, match="not a safetensors file digitlab can read"):
        load(garbage)


def safetensors_metadata(path) -> str:
    from safetensors import safe_open

    with safe_open(str(path), framework="np") as file:
        return file.metadata()["digitlab"]


def test_a_layer_no_format_has_is_refused_with_its_name(tmp_path):
    network = MLP(6, [4], 3, seed=0)

    class Square(Layer):  # a learner's own layer
        def forward(self, x, train=True):
            return x * x

    network.layers.append(Square())
    with pytest.raises(ConfigError, match="has no counterpart in the export formats"):
        to_onnx(network, tmp_path / "m.onnx")
    assert not (tmp_path / "m.onnx").exists()


def test_digitlab_export_writes_each_format(tmp_path, capsys):
    model = save(MLP(784, [16], 10, seed=0), tmp_path / "model.npz")
    for kind, name in (("onnx", "m.onnx"), ("safetensors", "m.safetensors"), ("torch", "m.pt")):
        assert main(["export", str(model), "--format", kind, "--out", str(tmp_path / name)]) == 0
        assert (tmp_path / name).stat().st_size > 784 * 16 * 4
    code = (tmp_path / "m.py").read_text()
    assert "nn.Linear(784, 16)" in code and "torch.load('m.pt', weights_only=True)" in code
    state = torch.load(tmp_path / "m.pt", weights_only=True)
    weights = load(model).params["W1"].T.astype(np.float32)  # exports are float32
    np.testing.assert_array_equal(state["0.weight"].numpy(), weights)


def test_digitlab_export_says_which_extra_is_missing(tmp_path, monkeypatch, capsys):
    model = save(MLP(784, [16], 10, seed=0), tmp_path / "model.npz")
    monkeypatch.setitem(sys.modules, "onnx", None)  # as if not installed
    assert main(["export", str(model), "--format", "onnx", "--out", str(tmp_path / "m")]) == 1
    assert "pip install 'digitlab[export]'" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()

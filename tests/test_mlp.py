"""MLP of any depth with BatchNorm, Dropout and weight decay: backprop against finite differences,
train and eval modes, running statistics as state, config round trip, dtypes, bad settings."""

import json
import math

import numpy as np
import pytest

from digitlab import MLP, SGD, ConfigError, Trainer, TwoLayerNet
from digitlab.gradients import check, finite_differences, supports_fast_path
from digitlab.nn import BatchNorm, Dropout, network_from_config

ACTIVATIONS = ["relu", "sigmoid", "tanh", "leaky_relu"]


@pytest.fixture(scope="module")
def mnist_batch(mnist_10k_inputs):
    x, t = mnist_10k_inputs[0][:10].astype(np.float64), mnist_10k_inputs[1][:10]
    return x, t


def deep_net(activation="relu", inputs=784, **kwargs):
    """A 3-hidden-layer network with BatchNorm and Dropout, for MNIST inputs."""
    options = {"use_batchnorm": True, "dropout": 0.2, "weight_decay": 1e-3, "seed": 0}
    return MLP(inputs, [16, 12, 10], 10, activation=activation, **{**options, **kwargs})


def assert_close_to_finite_differences(backprop, numerical, network):
    """Each tensor's largest error, relative to its largest gradient, below 1e-6; the bias of an
    Affine layer followed by BatchNorm has gradient 0 (the batch mean is subtracted), and both
    must say so."""
    for name, grad in backprop.items():
        error = np.max(np.abs(grad - numerical[name]))
        before_batchnorm = [f"b{i}" for i in range(1, len(network.sizes) - 1)]
        if network.use_batchnorm and name in before_batchnorm:
            assert np.max(np.abs(grad)) < 1e-12 and error < 1e-9, name
        else:
            assert error < 1e-6 * np.max(np.abs(grad)), name


# -- gradients ------------------------------------------------------------------------------


def test_three_hidden_layers_with_batchnorm_and_dropout_backprop_equals_finite_differences(
    mnist_batch,
):
    x, t = mnist_batch
    x = np.ascontiguousarray(x[:, ::4])  # every 4th pixel: the layers, not the images, are tested
    net = deep_net(inputs=x.shape[1])
    assert not supports_fast_path(net)
    with net.frozen():
        backprop = net.gradient(x, t)
        numerical = finite_differences(net, x, t, h=1e-5)
    assert backprop.keys() == numerical.keys() == net.params.keys()
    assert_close_to_finite_differences(backprop, numerical, net)


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_three_hidden_layers_with_batchnorm_and_dropout_pass_the_check(mnist_batch, activation):
    x, t = mnist_batch
    net = deep_net(activation)
    result = check(net, x, t)
    assert result.ok, result.table()
    assert result.sampled and {"gamma3", "beta3"} <= {c.name for c in result.tensors}


class BatchNormWithoutTheMeanTerm(BatchNorm):
    """A learner's BatchNorm backward that forgets the batch statistics depend on x."""

    def backward(self, dout, input_grad=True):
        super().backward(dout, input_grad)
        return dout * self.params[self.param_names[0]] / self.std


def test_the_check_finds_a_wrong_batchnorm_backward(mnist_batch):
    x, t = mnist_batch
    net = deep_net(dropout=0.0)
    second = [layer for layer in net.layers if isinstance(layer, BatchNorm)][1]
    second.__class__ = BatchNormWithoutTheMeanTerm
    result = check(net, x, t)
    # everything before it; b2's true gradient is 0, the wrong backward's is not
    assert set(result.wrong) == {"W1", "gamma1", "beta1", "W2", "b2"}, result.table()


def test_the_check_changes_nothing_in_the_network(mnist_batch):
    x, t = mnist_batch
    x = np.ascontiguousarray(x[:, ::4])
    net = deep_net(inputs=x.shape[1])
    net.loss_and_gradient(x, t)  # running statistics moved away from 0 and 1
    params = {k: v.copy() for k, v in net.params.items()}
    state = net.state()
    dropout = next(layer for layer in net.layers if isinstance(layer, Dropout))
    generator = dropout.rng.bit_generator.state
    check(net, x, t)
    finite_differences(net, x[:2], t[:2])
    assert all(np.array_equal(net.params[k], params[k]) for k in params)
    assert all(np.array_equal(v, state[k]) for k, v in net.state().items())
    assert dropout.rng.bit_generator.state == generator


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_weight_decay_adds_lambda_w_to_the_gradient(activation):
    rng = np.random.default_rng(0)
    x, t = rng.random((6, 5)), rng.integers(0, 3, 6)
    plain = MLP(5, [4, 4], 3, activation=activation, weight_init_std=0.8, seed=1)
    decayed = MLP(
        5, [4, 4], 3, activation=activation, weight_init_std=0.8, weight_decay=0.1, seed=1
    )
    penalty = 0.5 * 0.1 * sum(np.sum(decayed.params[f"W{i}"] ** 2) for i in (1, 2, 3))
    assert decayed.loss(x, t) == pytest.approx(plain.loss(x, t) + penalty, rel=1e-14)
    loss, grads = decayed.loss_and_gradient(x, t)
    assert loss == pytest.approx(plain.loss(x, t) + penalty, rel=1e-14)
    base = plain.gradient(x, t)
    for name, grad in grads.items():
        expected = base[name] + (0.1 * decayed.params[name] if name.startswith("W") else 0.0)
        np.testing.assert_allclose(grad, expected, rtol=1e-13, atol=1e-16, err_msg=name)
    assert_close_to_finite_differences(grads, finite_differences(decayed, x, t, h=1e-5), decayed)


# -- train and eval modes -------------------------------------------------------------------


def test_eval_mode_is_deterministic_and_train_mode_drops_units(mnist_batch):
    x, t = mnist_batch
    net = deep_net(use_batchnorm=False, dropout=0.5)
    np.testing.assert_array_equal(net.predict(x), net.predict(x))
    assert net.loss(x, t) == net.loss(x, t)
    assert net.loss(x, t, train=True) != net.loss(x, t, train=True)
    with net.frozen():
        assert net.loss(x, t, train=True) == net.loss(x, t, train=True)
    without = deep_net(use_batchnorm=False, dropout=0.0)
    assert net.loss(x, t) == pytest.approx(without.loss(x, t), rel=1e-14)  # same weights


def test_batchnorm_predictions_use_running_statistics_after_training(mnist_10k_inputs):
    x, t, x_test, t_test = mnist_10k_inputs
    net = MLP(784, [64, 32], 10, use_batchnorm=True, dropout=0.1, seed=0, dtype="float32")
    history = Trainer(net, SGD(0.2), epochs=2, progress=False, log=None).fit(
        x[:3000], t[:3000], x_test[:1000], t_test[:1000]
    )
    assert history.test_acc[-1] > 0.85
    assert np.all(net.state()["running_var1"] != 1.0)
    # a prediction does not depend on the batch it comes in
    np.testing.assert_allclose(net.predict(x_test[:1]), net.predict(x_test[:50])[:1], rtol=1e-5)


def test_state_round_trip_and_astype(mnist_batch):
    x, t = mnist_batch
    net = deep_net(dtype="float32")
    net.loss_and_gradient(x.astype(np.float32), t)
    state = net.state()
    assert sorted(state) == sorted(f"running_{s}{i}" for s in ("mean", "var") for i in (1, 2, 3))
    assert state["running_mean2"].shape == (12,) and state["running_mean2"].dtype == np.float32
    copy = net.astype(np.float64)
    assert copy.dtype == np.float64 and copy.state()["running_var1"].dtype == np.float64
    np.testing.assert_allclose(copy.predict(x), net.predict(x.astype(np.float32)), rtol=1e-4)
    fresh = deep_net(dtype="float32", seed=5)
    fresh.load_state(state)
    for name, value in fresh.state().items():
        np.testing.assert_array_equal(value, state[name])
    state["running_mean1"][...] = 99.0  # a copy: the network is unchanged
    assert not np.any(net.state()["running_mean1"] == 99.0)


def test_load_state_refuses_another_architecture():
    net = deep_net()
    with pytest.raises(ConfigError, match="same architecture"):
        net.load_state({"running_mean1": np.zeros(16)})
    other = MLP(784, [20, 12, 10], 10, use_batchnorm=True)
    with pytest.raises(ConfigError, match=r"'running_mean1' of shape \(20,\).*needs \(16,\)"):
        net.load_state(other.state())
    assert MLP(784, [16], 10).state() == {}


# -- construction ---------------------------------------------------------------------------


def test_layers_in_the_books_order():
    net = MLP(8, [6, 5], 3, activation="tanh", use_batchnorm=True, dropout=0.5, seed=0)
    assert [type(layer).__name__ for layer in net.layers] == [
        "Affine",
        "BatchNorm",
        "Tanh",
        "Dropout",
        "Affine",
        "BatchNorm",
        "Tanh",
        "Dropout",
        "Affine",
    ]
    names = ["W1", "b1", "W2", "b2", "W3", "b3", "gamma1", "beta1", "gamma2", "beta2"]
    assert list(net.params) == names  # the book's MultiLayerNetExtend order
    assert np.all(net.params["gamma2"] == 1) and not net.params["beta2"].any()


def test_the_same_seed_gives_the_same_weights_whatever_the_options():
    a = MLP(30, [20, 10], 5, seed=3)
    b = MLP(30, [20, 10], 5, seed=3, use_batchnorm=True, dropout=0.3, weight_decay=0.01)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


@pytest.mark.parametrize(
    ("activation", "scale"),
    [("relu", 2), ("leaky_relu", 2), ("sigmoid", 1), ("tanh", 1)],
)
def test_auto_init_follows_the_activation(activation, scale):
    net = MLP(400, [300], 10, activation=activation, seed=0)
    assert net.params["W1"].std() == pytest.approx(math.sqrt(scale / 400), rel=0.02)


@pytest.mark.parametrize(
    "network",
    [
        MLP(784, [256, 128], 10),
        MLP(
            784,
            [32, 16, 8],
            10,
            activation="leaky_relu",
            weight_init_std="xavier",
            use_batchnorm=True,
            dropout=0.25,
            weight_decay=1e-4,
            seed=4,
            dtype="float32",
        ),
        MLP(20, [], 3, weight_init_std=0.05, seed=0),
        TwoLayerNet(784, 50, 10, activation="tanh", dropout=0.5, seed=1, dtype="float32"),
    ],
    ids=lambda network: repr(network).replace("→", "-"),  # ASCII node ids
)
def test_config_round_trip(network):
    config = json.loads(json.dumps(network.config()))  # plain JSON data
    rebuilt = network_from_config(config)
    assert type(rebuilt) is type(network)
    assert rebuilt.config() == network.config()
    assert repr(rebuilt) == repr(network)
    assert [repr(layer) for layer in rebuilt.layers] == [repr(layer) for layer in network.layers]
    if network.seed is not None:
        assert all(np.array_equal(rebuilt.params[k], network.params[k]) for k in network.params)


def test_a_config_from_before_batchnorm_and_dropout_still_builds():
    config = {
        "type": "TwoLayerNet",
        "sizes": [784, 30, 10],
        "activation": "sigmoid",
        "weight_init_std": 0.01,
        "dtype": "float32",
    }
    assert repr(network_from_config(config)) == "TwoLayerNet(784→30→10, sigmoid, float32)"


def test_repr():
    net = MLP(784, [256, 128], 10, use_batchnorm=True, dropout=0.2, dtype="float32")
    assert repr(net) == "MLP(784→256→128→10, relu, batchnorm, dropout 0.2, float32)"
    assert (
        repr(MLP(4, [3], 2, weight_decay=1e-4)) == "MLP(4→3→2, relu, weight decay 0.0001, float64)"
    )


@pytest.mark.parametrize("activation", ACTIVATIONS)
def test_float32_stays_float32_on_the_whole_path(mnist_batch, activation):
    x, t = mnist_batch
    x = x.astype(np.float32)
    net = deep_net(activation, dtype="float32", weight_decay=1e-3)
    loss, grads = net.loss_and_gradient(x, t)
    assert math.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert all(s.dtype == np.float32 for s in net.state().values())
    assert net.scores(x, train=True).dtype == net.predict(x).dtype == np.float32


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"dropout": 1.0}, "dropout"),
        ({"dropout": -0.1}, "dropout"),
        ({"dropout": "0.5"}, "dropout"),
        ({"weight_decay": -1e-4}, "weight_decay"),
        ({"weight_decay": float("nan")}, "weight_decay"),
        ({"use_batchnorm": "yes"}, "use_batchnorm"),
        ({"activation": "softsign"}, "activation"),
        ({"activation": None}, "activation"),
        ({"weight_init_std": "std"}, "weight_init_std"),
        ({"weight_init_std": True}, "weight_init_std"),
        ({"weight_init_std": [0.1]}, "weight_init_std"),
        ({"dtype": "int32"}, "dtype"),
        ({"dtype": "nonsense"}, "dtype"),
        ({"seed": 1.5}, "seed"),
        ({"rng": np.random.RandomState(0)}, "rng"),
    ],
)
def test_bad_settings_raise_config_error_naming_the_field(kwargs, field):
    with pytest.raises(ConfigError, match=f"^{field}="):
        MLP(6, [5, 4], 3, **kwargs)


@pytest.mark.parametrize("hidden_sizes", [100, "100", None])
def test_hidden_sizes_must_be_a_list(hidden_sizes):
    with pytest.raises(ConfigError, match=r"hidden_sizes=.* e\.g\. \[100\]"):
        MLP(784, hidden_sizes, 10)

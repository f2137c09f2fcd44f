"""The book's TwoLayerNet: API, backprop against finite differences, one SGD step by hand."""

import math

import numpy as np
import pytest

from digitlab import MLP, SGD, ConfigError, TwoLayerNet
from digitlab.errors import DataError
from digitlab.gradients import numerical_gradient


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """CS231n's max |a - b| / max(|a| + |b|, tiny)."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-300)))


def small_batch(n=7, d=6, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d)), rng.integers(0, classes, n)


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("one_hot", [False, True])
def test_backprop_equals_finite_differences(activation, one_hot):
    x, t = small_batch()
    if one_hot:
        t = np.eye(4)[t]
    net = TwoLayerNet(6, 5, 4, weight_init_std=0.8, activation=activation, seed=3)
    backprop = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)
    assert backprop.keys() == numerical.keys() == {"W1", "b1", "W2", "b2"}
    for name in backprop:
        assert relative_error(backprop[name], numerical[name]) < 1e-7, name


def test_deeper_mlp_backprop_equals_finite_differences():
    x, t = small_batch(d=5, classes=3)
    net = MLP(5, [6, 4], 3, activation="sigmoid", weight_init_std=1.0, seed=1)
    backprop = net.gradient(x, t)
    for name, param in net.params.items():
        numerical = numerical_gradient(lambda _: net.loss(x, t), param)
        assert relative_error(backprop[name], numerical) < 1e-7, name


def test_one_sgd_step_matches_a_step_worked_out_by_hand():
    # A 2-2-2 sigmoid net, two samples; forward and backward written out in scalars below.
    net = TwoLayerNet(2, 2, 2, activation="sigmoid", seed=0)
    W1 = [[0.1, -0.2], [0.3, 0.4]]
    b1 = [0.05, -0.05]
    W2 = [[0.5, -0.6], [-0.7, 0.8]]
    b2 = [0.01, 0.02]
    net.params["W1"][...] = W1
    net.params["b1"][...] = b1
    net.params["W2"][...] = W2
    net.params["b2"][...] = b2
    xs = [[1.0, 2.0], [-1.0, 0.5]]
    ts = [0, 1]
    lr = 0.5

    dW1 = [[0.0, 0.0], [0.0, 0.0]]
    db1 = [0.0, 0.0]
    dW2 = [[0.0, 0.0], [0.0, 0.0]]
    db2 = [0.0, 0.0]
    total_loss = 0.0
    for x, t in zip(xs, ts, strict=True):
        a = [x[0] * W1[0][j] + x[1] * W1[1][j] + b1[j] for j in range(2)]
        h = [1 / (1 + math.exp(-v)) for v in a]
        s = [h[0] * W2[0][k] + h[1] * W2[1][k] + b2[k] for k in range(2)]
        e = [math.exp(v) for v in s]
        p = [v / sum(e) for v in e]
        total_loss += -math.log(p[t])
        ds = [(p[k] - (1.0 if k == t else 0.0)) / 2 for k in range(2)]  # mean over 2 samples
        for j in range(2):
            for k in range(2):
                dW2[j][k] += h[j] * ds[k]
        for k in range(2):
            db2[k] += ds[k]
        dh = [W2[j][0] * ds[0] + W2[j][1] * ds[1] for j in range(2)]
        da = [dh[j] * h[j] * (1 - h[j]) for j in range(2)]
        for i in range(2):
            for j in range(2):
                dW1[i][j] += x[i] * da[j]
        for j in range(2):
            db1[j] += da[j]

    x_arr, t_arr = np.array(xs), np.array(ts)
    assert net.loss(x_arr, t_arr) == pytest.approx(total_loss / 2, rel=1e-14)
    SGD(lr).update(net.params, net.gradient(x_arr, t_arr))
    expected = {
        "W1": np.array(W1) - lr * np.array(dW1),
        "b1": np.array(b1) - lr * np.array(db1),
        "W2": np.array(W2) - lr * np.array(dW2),
        "b2": np.array(b2) - lr * np.array(db2),
    }
    for name, value in expected.items():
        np.testing.assert_allclose(net.params[name], value, rtol=1e-13, err_msg=name)


def test_book_api_shapes_and_init():
    net = TwoLayerNet(784, 50, 10, seed=0)
    assert {k: v.shape for k, v in net.params.items()} == {
        "W1": (784, 50),
        "b1": (50,),
        "W2": (50, 10),
        "b2": (10,),
    }
    assert net.params["W1"].std() == pytest.approx(0.01, rel=0.03)
    assert abs(net.params["W1"].mean()) < 0.001
    assert not net.params["b1"].any()
    assert repr(net) == "TwoLayerNet(784→50→10, relu, float64)"


def test_he_and_xavier_scales():
    relu = TwoLayerNet(400, 300, 10, weight_init_std="auto", seed=0)
    sig = TwoLayerNet(400, 300, 10, weight_init_std="auto", activation="sigmoid", seed=0)
    assert relu.params["W1"].std() == pytest.approx(math.sqrt(2 / 400), rel=0.02)
    assert sig.params["W2"].std() == pytest.approx(math.sqrt(1 / 300), rel=0.05)


def test_predict_loss_accuracy():
    x, t = small_batch(n=50)
    net = TwoLayerNet(6, 5, 4, weight_init_std=1.0, seed=2)
    probs = net.predict(x)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0)
    expected = float(np.mean(probs.argmax(axis=1) == t))
    assert net.accuracy(x, t) == expected
    assert net.accuracy(x, np.eye(4)[t]) == expected
    assert net.accuracy(x, t, batch_size=7) == expected
    # The loss is a mean: the same batch twice has the same loss.
    assert net.loss(np.vstack([x, x]), np.hstack([t, t])) == pytest.approx(net.loss(x, t))
    assert net.loss(x, t) == pytest.approx(-np.mean(np.log(probs[np.arange(50), t])))


def test_layers_see_replaced_parameters():
    x, t = small_batch()
    net = TwoLayerNet(6, 5, 4, seed=0)
    net.params["W2"] = np.zeros_like(net.params["W2"])
    net.params["b2"] = np.zeros_like(net.params["b2"])
    assert net.loss(x, t) == pytest.approx(math.log(4))


def test_float32_network_stays_float32():
    x, t = small_batch()
    net = TwoLayerNet(6, 5, 4, seed=0, dtype="float32")
    grads = net.gradient(x.astype(np.float32), t)
    assert all(g.dtype == np.float32 for g in grads.values())
    assert all(p.dtype == np.float32 for p in net.params.values())


def test_same_seed_same_weights():
    a, b = TwoLayerNet(6, 5, 4, seed=7), TwoLayerNet(6, 5, 4, seed=7)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"weight_init_std": -1.0},
        {"weight_init_std": "nonsense"},
        {"activation": "softsign"},
        {"dtype": "int32"},
    ],
)
def test_bad_settings_raise_config_error(kwargs):
    with pytest.raises(ConfigError):
        TwoLayerNet(6, 5, 4, **kwargs)


def test_bad_sizes_raise_config_error():
    with pytest.raises(ConfigError, match="positive integers"):
        TwoLayerNet(6, 0, 4)


@pytest.mark.parametrize("net_kind", ["mlp", "conv"])
def test_score_gradients_equal_finite_differences(net_kind):
    """Saliency is d score_k / d x for every class k: checked entry by entry against central
    differences of the scores (eval mode), for an MLP with BatchNorm and for a conv net."""
    from digitlab import SimpleConvNet

    if net_kind == "mlp":
        net = MLP(784, [20, 16], 10, use_batchnorm=True, dropout=0.3, seed=0)
        rng = np.random.default_rng(2)  # running statistics as after training, not 0 and 1
        net.load_state(
            {
                name: rng.uniform(0.5, 1.5, a.shape)
                if "var" in name
                else rng.normal(0, 0.1, a.shape)
                for name, a in net.state().items()
            }
        )
    else:
        conv = {"filter_num": 3, "filter_size": 5, "pad": 1, "stride": 2}
        net = SimpleConvNet(conv_param=conv, hidden_size=8, weight_init_std=0.3, seed=0)
    x = np.random.default_rng(1).random((1, 784))
    grads = net.score_gradients(x).reshape(10, 784)
    numerical = np.empty((10, 784))
    eps = 1e-6
    for i in range(784):
        up, down = x.copy(), x.copy()
        up[0, i] += eps
        down[0, i] -= eps
        numerical[:, i] = (net.scores(up)[0] - net.scores(down)[0]) / (2 * eps)
    assert np.abs(grads).max() > 1e-3  # not a trivially zero map
    assert np.allclose(grads, numerical, rtol=1e-5, atol=1e-8)
    assert not np.allclose(grads[0], grads[1])
    with pytest.raises(DataError, match="one sample"):
        net.score_gradients(np.zeros((2, 784)))


def test_multiply_adds_counted_by_hand():
    # 784-100-10, 100 samples: 100 x (784*100 + 100*10) = 7,940,000
    assert TwoLayerNet(784, 100, 10).multiply_adds(100) == 7_940_000
    # 784-256-128-10, 2 samples: 2 x (200,704 + 32,768 + 1,280)
    assert MLP(784, [256, 128], 10).multiply_adds(2) == 469_504


def test_a_batch_too_large_for_the_memory_is_refused_at_the_boundary(monkeypatch):
    from digitlab.nn import network

    # 1,000 rows through 784-100-10 in float32: 1,000 x 894 x 4 bytes x 4 copies
    needed = 1_000 * 894 * 4 * 4
    monkeypatch.setattr(network, "physical_memory", lambda: needed)
    network.check_batch_memory([784, 100, 10], 1_000, np.float32)  # exactly fits
    monkeypatch.setattr(network, "physical_memory", lambda: needed - 1)
    with pytest.raises(ConfigError, match=r"a batch of 1,000 samples through layers 784-100-10"):
        network.check_batch_memory([784, 100, 10], 1_000, np.float32)


def test_weights_too_many_for_the_memory_are_refused_at_the_boundary(monkeypatch):
    from digitlab.nn import network

    # 79,510 weights of 784-100-10 in float64, each kept TRAINING_COPIES times
    needed = 79_510 * 8 * network.TRAINING_COPIES
    monkeypatch.setattr(network, "physical_memory", lambda: needed)
    network.check_parameter_memory(79_510, "layers 784-100-10", np.float64)  # exactly fits
    monkeypatch.setattr(network, "physical_memory", lambda: needed - 1)
    with pytest.raises(ConfigError, match=r"layers 784-100-10 make 79,510 weights"):
        network.check_parameter_memory(79_510, "layers 784-100-10", np.float64)


def test_activations_are_eval_mode_so_no_row_depends_on_the_others():
    # BatchNorm in training mode would normalize by the batch's statistics: each sample's
    # activations would change with the samples beside it
    net = MLP(784, [12], 10, use_batchnorm=True, dropout=0.5, seed=0)
    x = np.random.default_rng(0).random((6, 784))
    together = net.activations(x)["Relu1"]
    alone = np.concatenate([net.activations(x[i : i + 1])["Relu1"] for i in range(6)])
    assert together.shape == (6, 12)
    np.testing.assert_allclose(together, alone, rtol=1e-6)


def test_astype_gives_a_copy_in_the_dtype_asked_for():
    net = MLP(784, [8], 10, seed=0)  # float64
    single = net.astype(np.float32)
    assert single.dtype == np.float32 and single is not net
    assert all(p.dtype == np.float32 for p in single.params.values())
    np.testing.assert_allclose(single.params["W1"], net.params["W1"], rtol=1e-7)
    assert net.dtype == np.float64  # the original is left as it was


def test_labels_stored_as_whole_floats_count_as_class_indices():
    net = TwoLayerNet(6, 5, 3, seed=0)
    x = np.random.default_rng(0).random((4, 6))
    labels = np.array([0, 2, 1, 2])
    assert net.loss(x, labels.astype(np.float64)) == net.loss(x, labels)


@pytest.mark.parametrize(("label", "named"), [(2.5, "2.5"), (np.nan, "nan"), (np.inf, "inf")])
def test_a_label_that_is_no_whole_number_is_named(label, named):
    net = TwoLayerNet(6, 5, 3, seed=0)
    x = np.random.default_rng(0).random((4, 6))
    with pytest.raises(DataError, match=rf"not whole numbers \(e\.g\. {named}\)"):
        net.loss(x, np.array([0.0, 1.0, label, 2.0]))

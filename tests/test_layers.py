"""Every layer's backward against finite differences of its forward, and each layer's own rules:
BatchNorm's running statistics, inverted dropout's expectation, dtypes kept, no warnings."""

import math

import numpy as np
import pytest

from digitlab.gradients import numerical_gradient
from digitlab.nn import (
    Affine,
    BatchNorm,
    Dropout,
    LeakyReLU,
    ReLU,
    Sigmoid,
    SoftmaxWithLoss,
    Tanh,
    leaky_relu,
)

#: step of the finite differences: the functions below have gradients of order 1, so rounding
#: (1e-16 * |f| / h) and truncation (h^2 * f''' / 6) both stay near 1e-10
H = 1e-5


def relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """CS231n's max |a - b| / max(|a| + |b|, tiny), over every entry."""
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(a) + np.abs(b), 1e-300)))


def away_from_zero(shape, seed=0) -> np.ndarray:
    """Random values with |x| in [0.1, 2]: no ReLU kink within reach of the step H."""
    rng = np.random.default_rng(seed)
    return rng.uniform(0.1, 2.0, shape) * rng.choice([-1.0, 1.0], shape)


def assert_backward_matches_finite_differences(layer, x, params=None, train=True):
    """Backward of f = sum(forward(x) * R), with a fixed random R, against central differences
    of f for x and for each of the layer's parameters."""
    params = params if params is not None else {}
    with layer.frozen():  # Dropout: one mask; BatchNorm: running statistics untouched
        out = layer.forward(x, train)
        weights = np.random.default_rng(1).standard_normal(out.shape)
        dx = layer.backward(weights)

        def f(_):
            return float(np.sum(layer.forward(x, train) * weights))

        assert relative_error(dx, numerical_gradient(f, x, H)) < 1e-7, "x"
        for name in layer.param_names:
            numerical = numerical_gradient(f, params[name], H)
            assert relative_error(layer.grads[name], numerical) < 1e-7, name


def batchnorm(size, seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    params = {
        "gamma1": rng.uniform(0.5, 2.0, size).astype(dtype),
        "beta1": rng.normal(size=size).astype(dtype),
    }
    return BatchNorm(params, "gamma1", "beta1", "running_mean1", "running_var1"), params


# -- finite differences, layer by layer ---------------------------------------------------------


def test_affine_backward():
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(5, 3)), "b1": rng.normal(size=3)}
    assert_backward_matches_finite_differences(
        Affine(params, "W1", "b1"), rng.normal(size=(4, 5)), params
    )


@pytest.mark.parametrize("layer_class", [Sigmoid, Tanh, ReLU, LeakyReLU])
def test_activation_backward(layer_class):
    assert_backward_matches_finite_differences(layer_class(), away_from_zero((6, 5)))


def test_leaky_relu_backward_with_a_large_slope():
    assert_backward_matches_finite_differences(LeakyReLU(0.3), away_from_zero((6, 5)))


@pytest.mark.parametrize(
    ("layer_class", "args"),
    [(Sigmoid, ()), (Tanh, ()), (ReLU, ()), (LeakyReLU, ()), (LeakyReLU, (0.3,))],
    ids=["sigmoid", "tanh", "relu", "leaky_relu", "leaky_relu_0.3"],
)
def test_elementwise_computes_what_forward_does(layer_class, args):
    """The layer protocol's `elementwise`, which the fast finite differences apply to rows
    without a forward call, is the layer's own function (a leaky ReLU's slope included)."""
    layer = layer_class(*args)  # made here, not at collection: mutmut sees the test reach it
    x = away_from_zero((6, 5))
    np.testing.assert_allclose(layer.elementwise(x), layer.forward(x), rtol=1e-15)


def test_dropout_backward_with_a_fixed_mask():
    layer = Dropout(0.4, np.random.default_rng(0))
    assert_backward_matches_finite_differences(layer, away_from_zero((8, 6)))
    assert 0 < np.count_nonzero(layer.mask) < layer.mask.size  # some dropped, some kept


@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_batchnorm_backward(train):
    layer, params = batchnorm(4)
    layer.state["running_mean1"][...] = [0.3, -0.2, 0.1, 0.0]
    layer.state["running_var1"][...] = [0.5, 2.0, 1.0, 0.8]
    x = np.random.default_rng(2).normal(1.0, 2.0, size=(6, 4))
    assert_backward_matches_finite_differences(layer, x, params, train=train)


@pytest.mark.parametrize("one_hot", [False, True])
def test_softmax_with_loss_backward(one_hot):
    rng = np.random.default_rng(0)
    scores, t = rng.normal(size=(5, 4)), rng.integers(0, 4, 5)
    if one_hot:
        t = np.eye(4)[t]
    layer = SoftmaxWithLoss()
    layer.forward(scores, t)
    backward = layer.backward()
    numerical = numerical_gradient(lambda _: layer.forward(scores, t), scores, H)
    assert relative_error(backward, numerical) < 1e-7


# -- BatchNorm ------------------------------------------------------------------------------


def test_batchnorm_train_mode_normalizes_each_feature_of_the_batch():
    layer, params = batchnorm(3)
    x = np.random.default_rng(0).normal(5.0, 3.0, size=(50, 3))
    out = layer.forward(x, train=True)
    np.testing.assert_allclose(out.mean(axis=0), params["beta1"], atol=1e-12)
    # std sqrt(var / (var + eps)) * gamma: eps = 1e-5 against a variance near 9
    np.testing.assert_allclose(out.std(axis=0), params["gamma1"], rtol=1e-6)


def test_batchnorm_running_statistics_move_by_momentum():
    layer, _ = batchnorm(2)
    x = np.array([[1.0, 10.0], [3.0, 10.0], [8.0, 13.0]])
    layer.forward(x, train=True)
    # from mean 0, variance 1: 0.9 * old + 0.1 * batch, with the batch's biased variance
    mean, var = x.mean(axis=0), x.var(axis=0)
    np.testing.assert_allclose(layer.state["running_mean1"], 0.1 * mean, rtol=1e-15)
    np.testing.assert_allclose(layer.state["running_var1"], 0.9 + 0.1 * var, rtol=1e-15)
    with layer.frozen():
        layer.forward(2 * x, train=True)
    np.testing.assert_allclose(layer.state["running_mean1"], 0.1 * mean, rtol=1e-15)


def test_batchnorm_eval_mode_uses_the_running_statistics():
    layer, params = batchnorm(2)
    layer.state["running_mean1"][...] = [2.0, -1.0]
    layer.state["running_var1"][...] = [4.0, 0.25]
    x = np.array([[3.0, 0.0], [100.0, -50.0]])
    out = layer.forward(x, train=False)
    gamma, beta = params["gamma1"], params["beta1"]
    # worked by hand: (3 - 2) / sqrt(4 + 1e-5), and (0 + 1) / sqrt(0.25 + 1e-5)
    assert out[0, 0] == pytest.approx(gamma[0] * 1.0 / math.sqrt(4.00001) + beta[0], rel=1e-14)
    assert out[0, 1] == pytest.approx(gamma[1] * 1.0 / math.sqrt(0.25001) + beta[1], rel=1e-14)
    # one sample's output does not depend on the others in its batch
    np.testing.assert_array_equal(layer.forward(x[:1], train=False), out[:1])
    np.testing.assert_array_equal(layer.state["running_mean1"], [2.0, -1.0])


def test_batchnorm_of_a_single_sample_is_finite():
    layer, params = batchnorm(3)
    out = layer.forward(np.array([[1.0, -2.0, 1e6]]), train=True)  # variance 0
    np.testing.assert_array_equal(out[0], params["beta1"])
    assert np.all(np.isfinite(layer.backward(np.ones((1, 3)))))


# -- Dropout --------------------------------------------------------------------------------


def test_inverted_dropout_keeps_the_expectation():
    p = 0.3
    layer = Dropout(p, np.random.default_rng(0))
    x = np.full((1000, 1000), 2.0)
    out = layer.forward(x, train=True)
    # kept units are scaled by exactly 1 / (1 - p); dropped ones are 0
    assert set(np.unique(out)) == {0.0, 2.0 / (1 - p)}
    # the mean of 10^6 units has std 2 * sqrt(p / (1 - p)) / 1000 = 0.0013: allow 5 of them
    assert out.mean() == pytest.approx(2.0, abs=0.0066)
    # the dropped fraction has std sqrt(p (1 - p)) / 1000 = 0.00046: allow 5 of them
    assert np.mean(out == 0) == pytest.approx(p, abs=0.0023)


def test_dropout_is_the_identity_in_eval_mode():
    layer = Dropout(0.5, np.random.default_rng(0))
    x = away_from_zero((10, 8))
    np.testing.assert_array_equal(layer.forward(x, train=False), x)
    np.testing.assert_array_equal(layer.backward(x), x)


def test_dropout_draws_new_masks_except_when_frozen():
    layer = Dropout(0.5, np.random.default_rng(0))
    x = np.ones((20, 30))
    first, second = layer.forward(x), layer.forward(x)
    assert not np.array_equal(first, second)
    with layer.frozen():
        inside = layer.forward(x)
        np.testing.assert_array_equal(layer.forward(x), inside)
        np.testing.assert_array_equal(inside, second)  # the last mask, reused
        layer.forward(np.ones((5, 30)))  # another shape: a new mask...
    after = layer.forward(x)
    # ...but the generator is back where it was, so training goes on as if nothing happened
    reference = Dropout(0.5, np.random.default_rng(0))
    for _ in range(3):
        expected = reference.forward(x)
    np.testing.assert_array_equal(after, expected)


# -- activations ----------------------------------------------------------------------------


def test_leaky_relu_values():
    x = np.array([-1e308, -2.0, 0.0, 0.5, 1e308])
    np.testing.assert_array_equal(leaky_relu(x), [-1e306, -0.02, 0.0, 0.5, 1e308])
    np.testing.assert_array_equal(LeakyReLU().forward(x), leaky_relu(x))
    np.testing.assert_array_equal(LeakyReLU(0.2).forward(x[1:4]), [-0.4, 0.0, 0.5])


def test_tanh_values_and_extremes():
    x = np.array([-1e308, -3.0, 0.0, 0.7, 1e308])
    out = Tanh().forward(x)
    np.testing.assert_allclose(out, [-1.0, math.tanh(-3.0), 0.0, math.tanh(0.7), 1.0], rtol=1e-15)


@pytest.mark.parametrize(
    "make",
    [
        lambda p: Affine(p, "W1", "b1"),
        lambda p: Sigmoid(),
        lambda p: Tanh(),
        lambda p: ReLU(),
        lambda p: LeakyReLU(),
        lambda p: Dropout(0.5, np.random.default_rng(0)),
        lambda p: BatchNorm(p, "gamma1", "beta1", "running_mean1", "running_var1"),
    ],
    ids=["Affine", "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Dropout", "BatchNorm"],
)
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_float32_stays_float32(make, train):
    rng = np.random.default_rng(0)
    f32 = np.float32
    params = {
        "W1": rng.normal(size=(4, 4)).astype(f32),
        "b1": np.zeros(4, f32),
        "gamma1": np.ones(4, f32),
        "beta1": np.zeros(4, f32),
    }
    layer = make(params)
    out = layer.forward(rng.normal(size=(6, 4)).astype(f32), train)
    dx = layer.backward(np.ones((6, 4), f32))
    assert out.dtype == dx.dtype == f32
    assert all(g.dtype == f32 for g in layer.grads.values())
    assert all(s.dtype == f32 for s in layer.state.values())


def test_reprs():
    params = {"gamma2": np.ones(7), "beta2": np.zeros(7)}
    assert repr(BatchNorm(params, "gamma2", "beta2", "m", "v")) == "BatchNorm(7, gamma2, beta2)"
    assert repr(Dropout(0.25, np.random.default_rng())) == "Dropout(p=0.25)"
    assert repr(LeakyReLU()) == "LeakyReLU(negative_slope=0.01)"
    assert repr(Tanh()) == "Tanh()"


def test_batchnorm_after_a_convolution_normalizes_each_channel_over_samples_and_positions():
    # (N, C, H, W): one mean and variance per channel, over N x H x W values, in training
    layer, params = batchnorm(3)
    x = np.random.default_rng(1).normal(4.0, 2.0, size=(5, 3, 4, 4))
    out = layer.forward(x, train=True)
    assert out.shape == x.shape
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), params["beta1"], atol=1e-12)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), params["gamma1"], rtol=1e-5)
    # and a backward pass without the input's gradient (a first layer) returns nothing
    assert layer.backward(np.ones_like(x), input_grad=False) is None
    assert layer.grads["beta1"].shape == (3,)
    np.testing.assert_allclose(layer.grads["beta1"], np.full(3, 5 * 4 * 4))

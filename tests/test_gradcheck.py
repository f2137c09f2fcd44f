"""Fast exact finite differences == the book's loop; the gradient check names wrong tensors."""

import numpy as np
import pytest

from digitlab import MLP, TwoLayerNet
from digitlab.gradients import (
    check,
    finite_differences,
    numerical_gradient,
    sampled_numerical_gradient,
    supports_fast_path,
)
from digitlab.nn import Layer
from gallery import (
    BiasSummedOverWrongAxis,
    FlippedSignW2,
    LearnerNet,
    MissingOneOverN,
    ReluNet,
    SigmoidGradOnPreactivation,
    TanhInPlaceOfDerivative,
    TanhNet,
)


def book_loop(network, x, t, h=1e-4):
    """The book's numerical_gradient: one central difference per parameter, full passes."""
    return {
        name: numerical_gradient(lambda _: network.loss(x, t), param, h)
        for name, param in network.params.items()
    }


def assert_same(fast, slow, bound=1e-9):
    assert fast.keys() == slow.keys()
    for name in slow:
        assert fast[name].shape == slow[name].shape
        assert np.max(np.abs(fast[name] - slow[name])) < bound, name


@pytest.fixture(scope="module")
def mnist_batch(mnist_10k_inputs):
    x, t = mnist_10k_inputs[0][:10].astype(np.float64), mnist_10k_inputs[1][:10]
    return x, t


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_fast_path_equals_the_book_loop_on_784_100_10(mnist_batch, activation):
    x, t = mnist_batch
    net = TwoLayerNet(784, 100, 10, weight_init_std="auto", activation=activation, seed=0)
    assert supports_fast_path(net)
    fast = net.numerical_gradient(x, t)
    assert_same(fast, book_loop(net, x, t))
    # not trivially zero: the comparison means something
    assert np.abs(fast["W1"]).max() > 1e-3


@pytest.mark.parametrize("activation", ["tanh", "leaky_relu"])
def test_fast_path_equals_the_book_loop_on_mnist_for_the_other_activations(mnist_batch, activation):
    x, t = mnist_batch
    net = TwoLayerNet(784, 12, 10, weight_init_std="auto", activation=activation, seed=0)
    assert supports_fast_path(net)
    fast = net.numerical_gradient(x, t)
    assert_same(fast, book_loop(net, x, t))
    assert np.abs(fast["W1"]).max() > 1e-3


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu"])
@pytest.mark.parametrize("one_hot", [False, True])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_fast_path_equals_the_book_loop_on_deeper_networks(activation, one_hot, weight_decay):
    rng = np.random.default_rng(1)
    x = rng.random((12, 20))
    x[x < 0.4] = 0.0  # zero inputs, like MNIST's background, take the skip path
    t = rng.integers(0, 5, 12)
    if one_hot:
        t = np.eye(5)[t]
    net = MLP(
        20,
        [12, 9, 7],
        5,
        activation=activation,
        weight_init_std=0.7,
        weight_decay=weight_decay,
        seed=2,
    )
    assert supports_fast_path(net)
    assert_same(finite_differences(net, x, t), book_loop(net, x, t))


@pytest.mark.parametrize(
    "options",
    [{"use_batchnorm": True}, {"dropout": 0.3}, {"use_batchnorm": True, "dropout": 0.3}],
    ids=["batchnorm", "dropout", "both"],
)
def test_batchnorm_and_dropout_fall_back_to_the_loop_correctly(options):
    rng = np.random.default_rng(1)
    x, t = rng.random((12, 20)), rng.integers(0, 5, 12)
    net = MLP(20, [12, 9, 7], 5, activation="tanh", weight_decay=0.01, seed=2, **options)
    assert not supports_fast_path(net)
    with net.frozen():  # the same dropout masks for both
        backprop = net.gradient(x, t)
        numerical = finite_differences(net, x, t, h=1e-5)
    for name, grad in backprop.items():
        # the bias before a BatchNorm has gradient 0 (the batch mean is subtracted)
        scale = max(np.abs(grad).max(), 1e-3)
        assert np.abs(grad - numerical[name]).max() < 1e-7 * scale, name
    # the loss it differentiates is the training-mode one: in eval mode it would differ
    in_eval_mode = numerical_gradient(lambda _: net.loss(x, t), net.params["W1"])
    assert np.abs(in_eval_mode - numerical["W1"]).max() > 1e-4


def test_fast_path_keeps_the_step_size_it_is_given():
    rng = np.random.default_rng(0)
    x, t = rng.random((5, 6)), rng.integers(0, 3, 5)
    net = TwoLayerNet(6, 4, 3, weight_init_std=2.0, activation="sigmoid", seed=0)
    # with a large h the difference quotient differs from the gradient: both must agree on it
    assert_same(finite_differences(net, x, t, h=0.5), book_loop(net, x, t, h=0.5))


class Doubling(Layer):
    """A layer the fast path does not know (not Affine, no elementwise function)."""

    def forward(self, x, train=True):
        return 2 * x

    def backward(self, dout, input_grad=True):
        return 2 * dout


def test_an_unknown_layer_falls_back_to_the_loop_correctly():
    rng = np.random.default_rng(0)
    x, t = rng.random((5, 6)), rng.integers(0, 3, 5)
    net = TwoLayerNet(6, 4, 3, weight_init_std=1.0, seed=0)
    net.layers.insert(1, Doubling())
    assert not supports_fast_path(net)
    assert_same(net.numerical_gradient(x, t), book_loop(net, x, t))
    assert check(net, x, t).ok


def test_sampled_gradient_restores_and_matches():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 5))
    before = w.copy()
    index, values = sampled_numerical_gradient(lambda a: float(np.sum(a**2)), w, 7, rng)
    assert len(values) == 7 and len(set(zip(*index, strict=True))) == 7
    np.testing.assert_allclose(values, 2 * before[index], rtol=1e-9)
    assert np.array_equal(w, before)


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_a_correct_digitlab_network_passes_on_every_coordinate(mnist_batch, activation):
    x, t = mnist_batch
    net = TwoLayerNet(784, 50, 10, weight_init_std="auto", activation=activation, seed=0)
    result = check(net, x, t)
    assert result.ok, result.table()
    assert not result.sampled and result["W1"].checked == 784 * 50
    assert all(tensor.verdict == "correct" for tensor in result.tensors)


def test_a_float32_network_is_checked_in_float64(mnist_batch):
    x, t = mnist_batch
    net = TwoLayerNet(784, 30, 10, weight_init_std="auto", seed=0, dtype="float32")
    result = check(net, x, t)
    assert result.ok, result.table()
    assert net.params["W1"].dtype == np.float32


@pytest.mark.parametrize("network_class", [LearnerNet, ReluNet, TanhNet])
def test_a_correct_learner_network_passes_the_sampled_check(mnist_batch, network_class):
    x, t = mnist_batch
    net = network_class(784, 40, 10, weight_init_std=0.1)
    before = {k: v.copy() for k, v in net.params.items()}
    result = check(net, x, t, coordinates=25)
    assert result.ok, result.table()
    assert result.sampled and result["W1"].checked == 25 and result["b2"].checked == 10
    assert all(np.array_equal(net.params[k], before[k]) for k in before)


@pytest.mark.parametrize(
    ("network_class", "wrong"),
    [
        (SigmoidGradOnPreactivation, {"W1", "b1"}),
        (TanhInPlaceOfDerivative, {"W1", "b1"}),
        (FlippedSignW2, {"W2"}),
        (MissingOneOverN, {"W1", "b1", "W2", "b2"}),
        (BiasSummedOverWrongAxis, {"b1", "b2"}),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_each_planted_bug_fails_and_the_report_names_the_tensor(mnist_batch, network_class, wrong):
    x, t = mnist_batch
    net = network_class(784, 40, 10, weight_init_std=0.1)
    result = check(net, x, t)
    assert set(result.wrong) == wrong, result.table()
    assert not result.ok
    table = result.table()
    assert table.splitlines()[-1].startswith("verdict: backpropagation is wrong for ")
    for name in wrong:
        assert name in table.splitlines()[-1]


def test_bias_summed_over_the_wrong_axis_with_a_coinciding_shape(mnist_batch):
    x, t = mnist_batch  # 10 samples and 10 hidden units: same shape, wrong values
    result = check(BiasSummedOverWrongAxis(784, 10, 10, weight_init_std=0.1), x, t)
    assert result["b1"].max_relative_error > 0.1
    assert set(result.wrong) == {"b1", "b2"}
    assert result["b1"].problem == result["b2"].problem == ""


def test_the_table_states_thresholds_and_verdicts(mnist_batch):
    x, t = mnist_batch
    table = check(FlippedSignW2(784, 20, 10, weight_init_std=0.1), x, t).table()
    assert "below 0.0001 correct, below 0.01 suspicious, otherwise wrong" in table
    assert "W2" in table and "wrong" in table and "correct" in table

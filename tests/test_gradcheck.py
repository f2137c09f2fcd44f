"""Fast exact finite differences == the book's loop; the gradient check names wrong tensors, of
a network (its gradient keyed W1, dW1, grad_W1, ...) or of one layer; `digitlab gradcheck` on
the learner's own file; the table in English and Chinese."""

import re

import numpy as np
import pytest

from digitlab import MLP, TwoLayerNet
from digitlab.cli import main
from digitlab.gradients import (
    check,
    check_layer,
    finite_differences,
    numerical_gradient,
    sampled_numerical_gradient,
    supports_fast_path,
)
from digitlab.i18n import set_language
from digitlab.nn import Layer
from digitlab.nn.numerical import DEFAULT_H, losses_at
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
    # The book's loop over all 79,510 weights takes minutes; here it runs at 1,000 random weights
    # and 400 of W1 in the rows of inked pixels (most of W1 meets only blank background and has
    # a zero gradient). Every weight is compared on 784-12-10 below.
    x, t = mnist_batch
    net = TwoLayerNet(784, 100, 10, weight_init_std="auto", activation=activation, seed=0)
    assert supports_fast_path(net)
    fast = net.numerical_gradient(x, t)
    rng = np.random.default_rng(0)

    def book(_weights):  # the book's f(W): the loss, with the weight moved in place
        return net.loss(x, t)

    for name, param in net.params.items():
        index, values = sampled_numerical_gradient(book, param, 250, rng)
        assert np.max(np.abs(fast[name][index] - values)) < 1e-9, name
    inked = rng.choice(np.flatnonzero(x.any(axis=0)), 40, replace=False)
    index = (np.repeat(inked, 10), rng.integers(0, 100, 400))
    plus, minus = losses_at(book, net.params["W1"], index, DEFAULT_H)
    values = (plus - minus) / (2 * DEFAULT_H)
    assert np.max(np.abs(fast["W1"][index] - values)) < 1e-9
    # not trivially zero: the comparison means something
    assert np.abs(values).max() > 1e-3


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh", "leaky_relu"])
def test_fast_path_equals_the_book_loop_at_every_weight_of_784_12_10(mnist_batch, activation):
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


class Kinked:
    """loss = sum(relu(w)) at w = (0, 1): a kink at w[0], where any derivative in [0, 1] is
    one side's; `slope` is what its gradient says there."""

    def __init__(self, slope):
        self.params = {"w": np.array([0.0, 1.0])}
        self.slope = slope

    def loss(self, x, t):
        return float(np.maximum(self.params["w"], 0.0).sum())

    def gradient(self, x, t):
        return {"w": np.array([self.slope, 1.0])}


@pytest.mark.parametrize(("slope", "verdict"), [(0.0, "correct"), (1.0, "correct"), (3.0, "wrong")])
def test_at_a_kink_backprop_is_judged_by_the_one_sided_differences(slope, verdict):
    # the central difference there is 0.5, which neither side's derivative is: ReLU's backprop
    # (0, or 1) is right, a slope of 3 is wrong either way
    result = check(Kinked(slope), np.zeros((1, 1)), np.zeros(1, dtype=int))
    assert result["w"].verdict == verdict
    assert result["w"].kinks == 1


def test_a_book_conv_net_with_zero_biases_passes_although_blank_patches_sit_on_relus_kink(
    mnist_batch,
):
    from digitlab import SimpleConvNet

    x, t = mnist_batch
    net = SimpleConvNet(seed=0)  # the book's zero biases: blank patches give exactly 0
    result = check(net, x[:20], t[:20], coordinates=10)
    assert result.ok, result.table()
    assert result["b1"].kinks > 0
    assert "kink" in result.table()


def test_the_table_states_thresholds_and_verdicts(mnist_batch):
    x, t = mnist_batch
    table = check(FlippedSignW2(784, 20, 10, weight_init_std=0.1), x, t).table()
    assert "below 0.0001 correct, below 0.01 suspicious, otherwise wrong" in table
    assert "W2" in table and "wrong" in table and "correct" in table


# -- a learner's network, its gradient keyed as learners key it ------------------------------


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def softmax(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class SpelledNet:
    """The book's chapter 4 TwoLayerNet (sigmoid, softmax, mean cross-entropy of one-hot rows),
    written without digitlab; gradient() names each key with `spelling` (W1 -> dW1, ...).

    Its log has no `+ 1e-7`: that guard moves each sample's share of the gradient by about
    1e-7 / y, and where the shares cancel over the batch the rest can reach a relative error
    of 1e-4 ("suspicious"); the doctor names that case (gradient-mismatch/guard).
    """

    def __init__(self, spelling=lambda name: "d" + name, seed=0):
        rng = np.random.default_rng(seed)
        self.spelling = spelling
        self.params = {
            "W1": 0.1 * rng.standard_normal((784, 30)),
            "b1": np.zeros(30),
            "W2": 0.1 * rng.standard_normal((30, 10)),
            "b2": np.zeros(10),
        }

    def predict(self, x):
        z1 = sigmoid(x @ self.params["W1"] + self.params["b1"])
        return softmax(z1 @ self.params["W2"] + self.params["b2"])

    def loss(self, x, t):
        return -np.sum(t * np.log(self.predict(x))) / x.shape[0]

    def weight_gradient_2(self, a1, z1, dy):
        return z1.T @ dy

    def gradient(self, x, t):
        a1 = x @ self.params["W1"] + self.params["b1"]
        z1 = sigmoid(a1)
        y = softmax(z1 @ self.params["W2"] + self.params["b2"])
        dy = (y - t) / x.shape[0]
        da1 = dy @ self.params["W2"].T * z1 * (1 - z1)
        grads = {
            "W1": x.T @ da1,
            "b1": da1.sum(axis=0),
            "W2": self.weight_gradient_2(a1, z1, dy),
            "b2": dy.sum(axis=0),
        }
        return {self.spelling(name): grad for name, grad in grads.items()}


class W2FromPreactivation(SpelledNet):
    """dW2 from the hidden layer's pre-activation a1 instead of its output z1: the same shape,
    the derivative of the wrong tensor."""

    def weight_gradient_2(self, a1, z1, dy):
        return a1.T @ dy


SPELLINGS = {
    "dW1": lambda name: "d" + name,
    "dw1": lambda name: "d" + name.lower(),
    "grad_W1": lambda name: "grad_" + name,
    "W1_grad": lambda name: name + "_grad",
    "W1": lambda name: name,
}


@pytest.fixture(scope="module")
def one_hot_batch(mnist_batch):
    x, t = mnist_batch
    return x, np.eye(10)[t]


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_learner_gradient_keyed_as_learners_key_it_is_checked(one_hot_batch, spelling):
    x, t = one_hot_batch
    result = check(SpelledNet(spelling), x, t)
    assert result.ok, result.table()
    assert [c.name for c in result.tensors] == ["W1", "b1", "W2", "b2"]
    assert all(c.checked > 0 and not c.problem for c in result.tensors)


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_the_derivative_of_the_wrong_tensor_is_wrong_for_that_tensor(one_hot_batch, spelling):
    x, t = one_hot_batch
    result = check(W2FromPreactivation(spelling), x, t, lang="en")
    assert result.wrong == ["W2"], result.table()
    assert result.table().splitlines()[-1] == "verdict: backpropagation is wrong for W2."


def test_the_worst_coordinate_shows_both_values(one_hot_batch):
    x, t = one_hot_batch
    net = W2FromPreactivation()
    result = check(net, x, t, lang="en")
    w2 = result["W2"]
    # the values at the worst coordinate are the network's own gradient and the book's loop
    assert w2.worst_analytic == net.gradient(x, t)["dW2"][w2.worst_index]
    book = numerical_gradient(lambda _: net.loss(x, t), net.params["W2"], h=1e-5)
    assert w2.worst_numerical == pytest.approx(book[w2.worst_index], rel=1e-6)
    assert abs(w2.worst_analytic - w2.worst_numerical) > 1e-3
    row = next(line for line in result.table().splitlines() if line.startswith("W2 "))
    assert str(list(w2.worst_index)) in row
    assert f"{w2.worst_analytic:.6g}" in row and f"{w2.worst_numerical:.6g}" in row
    header = result.table().splitlines()[1].split()
    assert header[-3:] == ["analytic", "numerical", "verdict"]
    # a correct tensor shows its worst coordinate too, where the two agree
    w1 = result["W1"]
    assert w1.worst_index is not None
    assert w1.worst_analytic == pytest.approx(w1.worst_numerical, rel=1e-4)


class ListGradient(SpelledNet):
    def gradient(self, x, t):
        return list(super().gradient(x, t).values())


class MissingBias(SpelledNet):
    def gradient(self, x, t):
        grads = super().gradient(x, t)
        del grads["db2"]
        return grads


def test_a_gradient_that_is_no_dict_or_lacks_a_key_is_named(one_hot_batch):
    x, t = one_hot_batch
    listed = check(ListGradient(), x, t, lang="en")
    assert listed.wrong == ["W1", "b1", "W2", "b2"]
    assert "wrong (gradient() returned a list, not a dict)" in listed.table()
    missing = check(MissingBias(), x, t, lang="en")
    assert missing.wrong == ["b2"]
    assert missing["b2"].problem_text("en") == "gradient() returned no such key"
    row = next(line for line in missing.table().splitlines() if line.startswith("b2 "))
    assert row.split()[2:5] == ["0", "-", "-"]


class TransposedW2(SpelledNet):
    def gradient(self, x, t):
        grads = super().gradient(x, t)
        grads["dW2"] = grads["dW2"].T
        return grads


class WithAnEmptyTensor(SpelledNet):
    """A parameter with no entries (a layer of width 0): nothing to compare, nothing to fail."""

    def __init__(self):
        super().__init__()
        self.params["empty"] = np.zeros((0, 10))

    def gradient(self, x, t):
        return {**super().gradient(x, t), "dempty": np.zeros((0, 10))}


def test_a_gradient_of_the_wrong_shape_or_of_no_entries(one_hot_batch):
    x, t = one_hot_batch
    transposed = check(TransposedW2(), x, t, lang="en")
    assert transposed.wrong == ["W2"]
    assert transposed["W2"].problem_text() == "gradient has shape (10, 30)"
    empty = check(WithAnEmptyTensor(), x, t, lang="en")["empty"]
    assert empty.checked == 0 and empty.worst_index is None and empty.worst_numerical is None


def test_the_same_seed_samples_the_same_coordinates(one_hot_batch):
    x, t = one_hot_batch

    def sampled(seed):
        result = check(SpelledNet(), x, t, coordinates=3, seed=seed)
        return [result[name].worst_index for name in ("W1", "b1", "W2")]

    assert sampled(4) == sampled(4) != sampled(5)


# -- the table in Chinese --------------------------------------------------------------------

#: English words of the table that must not appear in its Chinese version
ENGLISH_WORDS = (
    "tensor",
    "shape",
    "checked",
    "rel error",
    "abs error",
    "worst index",
    "analytic",
    "numerical",
    "verdict",
    "correct",
    "wrong",
    "suspicious",
    "noise",
    "gradient check of",
    "central differences",
    "samples",
    "below",
    "backpropagation",
    "returned",
)


def english_words(text: str) -> list[str]:
    return [word for word in ENGLISH_WORDS if re.search(rf"\b{word}\b", text)]


def test_the_table_in_chinese_has_no_english_words(one_hot_batch):
    x, t = one_hot_batch
    result = check(W2FromPreactivation(), x, t, lang="zh")
    table = result.table()
    assert not english_words(table.replace("W2FromPreactivation", "")), table
    assert "错误" in table and "正确" in table
    assert result.conclusion() == "结论：W2 的反向传播是错误的。"
    assert result.in_language("en").table().splitlines()[-1].startswith("verdict: ")
    # the verdict keys stay the same in every language
    assert result["W2"].verdict == "wrong" and result.wrong == ["W2"]


def test_problems_and_the_noise_are_chinese_too(one_hot_batch):
    x, t = one_hot_batch
    table = check(MissingBias(), x, t, lang="zh").table()
    assert not english_words(table.replace("MissingBias", "")), table
    relu = check_layer(Relu(), np.random.default_rng(0).standard_normal((3, 5)), lang="zh")
    assert "≤ 噪声" in relu.table() and not english_words(relu.table().replace("Relu", ""))


def test_chinese_columns_line_up(one_hot_batch):
    x, t = one_hot_batch
    lines = check(SpelledNet(), x, t, lang="zh").table().splitlines()[1:6]
    # the verdict column starts at the same terminal column on every row (Chinese: 2 columns)
    starts = []
    for line in lines:
        verdict = line.split()[-1]
        before = line[: line.rindex(verdict)]
        starts.append(sum(2 if "\u4e00" <= ch <= "\u9fff" else 1 for ch in before))
    assert len(set(starts)) == 1, lines


# -- one layer: forward(x), backward(dout) ----------------------------------------------------


class Relu:
    """The book's Relu (common/layers.py): it writes into dout."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.dW = self.db = None

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = np.sum(dout, axis=0)
        return dout @ self.W.T


class InvertedRelu(Relu):
    def backward(self, dout):
        dout[~self.mask] = 0
        return dout


class SigmoidWithoutOneMinus(Sigmoid):
    def backward(self, dout):
        return dout * self.out


class AffineBiasMean(Affine):
    """db as the mean over the batch instead of the sum."""

    def backward(self, dx):
        dx = super().backward(dx)
        self.db = self.db / len(self.x)
        return dx


class Doubler:
    """out = 2x; its backward doubles dout in place: the check must keep its own dout."""

    def forward(self, x):
        return 2 * x

    def backward(self, dout):
        dout *= 2
        return dout


class Consuming(Affine):
    """Its backward needs the forward right before it (a cache used once, as in an RNN step)."""

    def forward(self, x):
        self.fresh = True
        return super().forward(x)

    def backward(self, dout):
        if not self.fresh:
            raise RuntimeError("backward without forward")
        self.fresh = False
        return super().backward(dout)


class Scale:
    """A learner's spelling of a parameter and its gradient: w and grad_w."""

    def __init__(self, size):
        self.w = np.linspace(0.5, 1.5, size)
        self.grad_w = None

    def forward(self, x):
        self.x = x
        return x * self.w

    def backward(self, dout):
        self.grad_w = np.sum(dout * self.x, axis=0)
        return dout * self.w


def affine(layer_class=Affine):
    rng = np.random.default_rng(3)
    return layer_class(0.1 * rng.standard_normal((20, 7)), rng.standard_normal(7))


@pytest.fixture
def layer_input():
    return np.random.default_rng(1).standard_normal((6, 20))


@pytest.mark.parametrize(
    ("make", "tensors"),
    [
        (Relu, ["x"]),
        (Sigmoid, ["x"]),
        (affine, ["x", "W", "b"]),
        (Doubler, ["x"]),
        (lambda: affine(Consuming), ["x", "W", "b"]),
        (lambda: Scale(20), ["x", "w"]),
    ],
    ids=["relu", "sigmoid", "affine", "writes-into-dout", "consuming-cache", "grad_w"],
)
def test_a_correct_layer_passes(layer_input, make, tensors):
    x = layer_input.copy()
    layer = make()
    params = {name: getattr(layer, name).copy() for name in tensors if name != "x"}
    result = check_layer(layer, x, coordinates=60)
    assert result.ok, result.table()
    assert [c.name for c in result.tensors] == tensors
    assert result["x"].checked == 60 and result.samples == 6
    assert np.array_equal(x, layer_input)  # the caller's input is left alone
    for name, value in params.items():
        assert np.array_equal(getattr(layer, name), value), name


@pytest.mark.parametrize(
    ("make", "wrong"),
    [
        (InvertedRelu, ["x"]),
        (SigmoidWithoutOneMinus, ["x"]),
        (lambda: affine(AffineBiasMean), ["b"]),
    ],
    ids=["inverted-mask", "sigmoid-without-1-y", "bias-mean"],
)
def test_a_planted_layer_bug_is_wrong_for_its_tensor(layer_input, make, wrong):
    result = check_layer(make(), layer_input, lang="en")
    assert result.wrong == wrong, result.table()
    assert result.table().splitlines()[-1].endswith(f"wrong for {wrong[0]}.")


def test_the_layer_check_compares_with_the_book_loop(layer_input):
    """The numerical side is the book's numerical_gradient of sum(forward(x) * dout)."""
    layer = affine(AffineBiasMean)
    result = check_layer(layer, layer_input, seed=5)
    dout = np.random.default_rng(5).standard_normal((6, 7))  # the first draw of the seed
    book = numerical_gradient(lambda _: np.sum(layer.forward(layer_input) * dout), layer.b)
    b = result["b"]
    assert b.worst_numerical == pytest.approx(book[b.worst_index], rel=1e-6)
    assert b.worst_analytic == pytest.approx(dout.sum(axis=0)[b.worst_index] / 6, rel=1e-12)


class NoInputGradient(Relu):
    def backward(self, dout):
        super().backward(dout)


def test_a_backward_that_returns_nothing_is_named(layer_input):
    result = check_layer(NoInputGradient(), layer_input, lang="en")
    assert result.wrong == ["x"]
    assert result["x"].problem_text() == "backward() returned NoneType, not an array"


def test_a_difference_as_large_as_the_noise_is_within_it():
    """relative_error is 0 where |analytic - numerical| is within the noise, its edge included,
    and CS231n's |a - n| / (|a| + |n|) beyond it."""
    from digitlab.gradients.check import relative_error

    errors = relative_error(np.array([1.0, 1.0]), np.array([1.5, 1.75]), noise=0.5)
    assert errors.tolist() == [0.0, 0.75 / 2.75]


class SlottedSigmoid:
    """A learner's layer with __slots__: no __dict__ to look for parameters in."""

    __slots__ = ("out",)

    def forward(self, x):
        self.out = 1 / (1 + np.exp(-x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


def test_a_layer_without_a_dict_is_checked_for_its_input_gradient(layer_input):
    result = check_layer(SlottedSigmoid(), layer_input, lang="en")
    assert [c.name for c in result.tensors] == ["x"] and result.wrong == []


# -- digitlab gradcheck MODULE:FACTORY --------------------------------------------------------

LEARNER_FILE = '''
import numpy as np


def sigmoid(a):
    return 1 / (1 + np.exp(-a))


def softmax(a):
    e = np.exp(a - a.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.1):
        rng = np.random.default_rng(0)
        self.params = {
            "W1": weight_init_std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }

    def predict(self, x):
        z1 = sigmoid(x @ self.params["W1"] + self.params["b1"])
        return softmax(z1 @ self.params["W2"] + self.params["b2"])

    def loss(self, x, t):
        # no + 1e-7 in the log: see SpelledNet
        return -np.sum(t * np.log(self.predict(x))) / x.shape[0]

    def gradient(self, x, t):
        a1 = x @ self.params["W1"] + self.params["b1"]
        z1 = sigmoid(a1)
        y = softmax(z1 @ self.params["W2"] + self.params["b2"])
        dy = (y - t) / x.shape[0]
        da1 = dy @ self.params["W2"].T * z1 * (1 - z1)
        return {"dW1": x.T @ da1, "db1": da1.sum(0), "dW2": {w2_from}.T @ dy, "db2": dy.sum(0)}


class IndexNet(TwoLayerNet):
    """Labels as class indices, in loss and gradient alike."""

    def loss(self, x, t):
        return -np.mean(np.log(self.predict(x)[np.arange(len(t)), t]))

    def gradient(self, x, t):
        return super().gradient(x, np.eye(10)[t])


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T


def make_affine():
    rng = np.random.default_rng(0)
    return Affine(0.1 * rng.standard_normal((12, 5)), np.zeros(5))


class NoGradient:
    def __init__(self):
        self.params = {"W": np.zeros(3)}

    def loss(self, x, t):
        return 0.0


class NoLoss:
    def __init__(self):
        self.params = {}


class Raises(TwoLayerNet):
    def gradient(self, x, t):
        raise ValueError("shapes (10,30) and (10,10) not aligned")


class NoFiniteLoss(TwoLayerNet):
    def loss(self, x, t):
        return np.array([1.0, 2.0])


def broken_layer():
    raise RuntimeError("no weights yet")
'''


@pytest.fixture(autouse=True)
def english(monkeypatch):
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    yield
    set_language("en")


def learner_file(tmp_path, w2_from="z1"):
    """mynet.py in tmp_path; w2_from: what dW2 is computed from (z1 is right)."""
    path = tmp_path / "mynet.py"
    path.write_text(LEARNER_FILE.replace("{w2_from}", w2_from))
    return str(path)


def test_cli_checks_the_learners_network(tmp_path, capsys):
    path = learner_file(tmp_path)
    assert main(["gradcheck", f"{path}:TwoLayerNet"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("checking TwoLayerNet from ")
    assert "verdict: backpropagation is correct." in out


def test_cli_names_the_wrong_tensor_and_exits_1(tmp_path, capsys):
    path = learner_file(tmp_path, w2_from="a1")
    assert main(["gradcheck", f"{path}:TwoLayerNet", "--samples", "5"]) == 1
    out = capsys.readouterr().out
    assert "verdict: backpropagation is wrong for W2." in out
    assert "on 5 images of mnist-10k" in out


def test_cli_gives_index_labels_to_a_loss_that_takes_them(tmp_path, capsys):
    path = learner_file(tmp_path)
    assert main(["gradcheck", f"{path}:IndexNet"]) == 0
    assert main(["gradcheck", f"{path}:IndexNet", "--labels", "index"]) == 0
    assert "verdict: backpropagation is correct." in capsys.readouterr().out
    assert main(["gradcheck", f"{path}:IndexNet", "--labels", "one-hot"]) == 1
    assert "checking IndexNet failed: IndexError" in capsys.readouterr().err


def test_cli_checks_a_layer_class_or_a_function_that_makes_one(tmp_path, capsys):
    path = learner_file(tmp_path)
    assert main(["gradcheck", f"{path}:Relu", "--samples", "4"]) == 0
    out = capsys.readouterr().out
    assert "on an input of shape 4x784" in out and "gradient check of Relu" in out
    assert main(["gradcheck", f"{path}:make_affine", "--layer-input", "3,12"]) == 0
    out = capsys.readouterr().out
    assert "on an input of shape 3x12" in out
    assert [line.split()[0] for line in out.splitlines()[3:6]] == ["x", "W", "b"]


@pytest.mark.parametrize(
    ("target", "phrase"),
    [
        ("{path}:Nothing", "has no Nothing; it defines: "),
        ("{missing}:TwoLayerNet", "no such file"),
        ("{path}:NoGradient", "NoGradient() returned a NoGradient without `gradient(x, t)`"),
        ("{path}:NoLoss", "NoLoss() returned a NoLoss without `params` and `loss(x, t)`"),
        ("{path}:Affine", "Affine needs the arguments W, b"),
        ("{path}:Raises", "checking Raises failed: ValueError: shapes (10,30) and (10,10)"),
        ("{path}:NoFiniteLoss", "it returns an array of shape (2,)"),
        (
            "{path}:NoLoss --layer-input 2,3",
            "NoLoss gives a NoLoss without `forward(x)` and `backward(dout)`",
        ),
        (
            "{path}:broken_layer --layer-input 2,3",
            "broken_layer() raised RuntimeError: no weights yet (at mynet.py:",
        ),
    ],
)
def test_cli_every_failure_is_one_line(tmp_path, capsys, target, phrase):
    path = learner_file(tmp_path)
    argv = target.format(path=path, missing=tmp_path / "nowhere.py").split()
    assert main(["gradcheck", *argv]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("digitlab: "), err
    assert phrase in err and "Traceback" not in err


def test_cli_a_malformed_target_is_a_usage_error(capsys):
    assert main(["gradcheck", "mynet"]) == 2
    err = capsys.readouterr().err
    assert "is neither MODULE:FACTORY nor PROGRAM.py" in err and "digitlab gradcheck --help" in err


def test_cli_a_missing_program_is_one_line(capsys):
    assert main(["gradcheck", "no_such_dir/mynet.py"]) == 1
    err = capsys.readouterr().err
    assert "no such file" in err and "Traceback" not in err


def test_cli_in_chinese(tmp_path, capsys):
    path = learner_file(tmp_path, w2_from="a1")
    assert main(["--lang", "zh", "gradcheck", f"{path}:TwoLayerNet"]) == 1
    out = capsys.readouterr().out
    table = out.split("\n", 1)[1].replace("TwoLayerNet", "")
    assert not english_words(table), out
    assert "结论：W2 的反向传播是错误的。" in out


def test_an_object_whose_repr_raises_is_described_by_its_class():
    from digitlab.gradients.check import describe

    class Half:
        def __repr__(self):
            return f"Half({self.size})"  # before __init__ set it: AttributeError

    assert describe(Half()) == "Half"
    assert describe(object()) == "object"


class HalfSquares:
    """loss = sum(w^2) / 2 at w = (1, 2, 3), whose gradient is w itself; `gradient` returns w
    with `offset` added to its last entry."""

    def __init__(self, offset):
        self.params = {"w": np.array([1.0, 2.0, 3.0])}
        self.offset = offset

    def loss(self, x, t):
        return float(np.sum(self.params["w"] ** 2) / 2)

    def gradient(self, x, t):
        return {"w": self.params["w"] + np.array([0.0, 0.0, self.offset])}


def test_a_check_worked_by_hand():
    # The central difference of a quadratic is exact up to rounding: 1, 2, 3. A gradient of
    # 3.5 at w[2] is off by 0.5 there, a relative error of 0.5 / (3.5 + 3) = 1/13: wrong.
    x, t = np.zeros((1, 1)), np.zeros(1, dtype=int)
    tensor = check(HalfSquares(0.5), x, t)["w"]
    assert tensor.checked == 3 and tensor.verdict == "wrong" and tensor.problem == ""
    assert tensor.max_absolute_error == pytest.approx(0.5, abs=1e-8)
    assert tensor.max_relative_error == pytest.approx(1 / 13, abs=1e-8)
    assert tensor.worst_index == (2,)
    assert tensor.worst_analytic == 3.5
    assert tensor.worst_numerical == pytest.approx(3.0, abs=1e-8)
    assert tensor.kinks == 0
    # right: every difference within rounding, judged as none (the worst is still named)
    with pytest.raises(KeyError, match="W1"):  # the name asked for, not a bare KeyError
        check(HalfSquares(0.5), x, t)["W1"]
    right = check(HalfSquares(0.0), x, t)["w"]
    assert right.verdict == "correct" and right.max_relative_error < 1e-7
    assert right.max_absolute_error < 1e-8 and right.worst_index is not None


class Quadratic:
    """loss = s^2 of a scalar parameter s = 2 (a 0-d array), whose gradient is 4; `gradient`
    says `slope`."""

    def __init__(self, slope):
        self.params = {"s": np.array(2.0)}
        self.slope = slope

    def loss(self, x, t):
        return float(self.params["s"] ** 2)

    def gradient(self, x, t):
        return {"s": np.array(self.slope)}


@pytest.mark.parametrize(("slope", "verdict"), [(4.0, "correct"), (4.0 * (1 + 3e-3), "suspicious")])
def test_a_scalar_parameter_is_checked_and_the_table_says_so(slope, verdict):
    x, t = np.zeros((1, 1)), np.zeros(1, dtype=int)
    learner = Quadratic(slope)
    result = check(learner, x, t)
    assert result["s"].checked == 1 and result["s"].verdict == verdict
    assert learner.params["s"] == 2.0 and learner.params["s"].shape == ()  # put back
    heading, _header, row, *_rest, conclusion = result.table().splitlines()
    assert heading == (
        "gradient check of Quadratic: backprop vs central differences "
        "(h=1e-05, sampled coordinates, 1 samples, float64)"
    )
    assert row.split()[:3] == ["s", "scalar", "1"] and row.split()[-1] == verdict
    if verdict == "suspicious":
        assert conclusion == "verdict: suspicious for s; check with fewer samples."
        assert check(Quadratic(slope), x, t, lang="zh").conclusion() == (
            "结论：s 可疑；请用更少的样本再检验一次。"
        )
    else:
        assert conclusion == "verdict: backpropagation is correct."


class TransposedAffine:
    """The book's Affine, but backward keeps dW transposed and returns dx transposed too."""

    def __init__(self):
        rng = np.random.default_rng(0)
        self.W, self.b = rng.standard_normal((4, 3)), np.zeros(3)

    def forward(self, x):
        self.x = x
        return x @ self.W + self.b

    def backward(self, dout):
        self.dW = (self.x.T @ dout).T
        self.db = dout.sum(axis=0)
        return (dout @ self.W.T).T


def test_a_layer_gradient_of_the_wrong_shape_is_named_with_its_shape():
    result = check_layer(TransposedAffine(), np.random.default_rng(1).standard_normal((2, 4)))
    assert result.wrong == ["x", "W"] and result["b"].verdict == "correct"
    assert result["x"].problem_text() == "gradient has shape (4, 2)"
    assert result["W"].problem_text() == "gradient has shape (3, 4)"
    assert result["W"].shape == (4, 3) and result["x"].shape == (2, 4)
    assert result.samples == 2 and result.sampled


def test_the_heading_says_how_much_was_compared():
    # a digitlab network of Affine layers gets every coordinate (4,015 of 784-5-10), h = 1e-6
    x, t = np.random.default_rng(0).random((3, 784)), np.array([1, 2, 3])
    result = check(TwoLayerNet(784, 5, 10, seed=0), x, t)
    assert result.heading() == (
        "gradient check of TwoLayerNet(784→5→10, relu, float64): backprop vs central "
        "differences (h=1e-06, every coordinate, 3 samples, float64)"
    )
    assert [tensor.checked for tensor in result.tensors] == [3920, 5, 50, 10]
    assert result.in_language("zh").heading() == (
        "TwoLayerNet(784→5→10, relu, float64) 的梯度检验：反向传播对比中心差分"
        "（h=1e-06，全部坐标，3 个样本，float64）"
    )


def test_finite_differences_of_any_network_are_the_books_loop():
    # an object that is no digitlab network gets the book's loop over its params:
    # the gradient of sum(w^2) / 2 is w itself, to the rounding of the difference quotient
    learner = HalfSquares(0.0)
    numerical = finite_differences(learner, np.zeros((1, 1)), np.zeros(1, dtype=int))
    np.testing.assert_allclose(numerical["w"], [1.0, 2.0, 3.0], atol=1e-7)
    assert learner.params["w"].tolist() == [1.0, 2.0, 3.0]  # put back

"""Networks written the way learners write them (a class with `params`, `predict`, `loss`,
`gradient`), each subclass planting one bug from the seed stories. Shared by the gradient-check
and doctor tests; none of this uses digitlab."""

import itertools

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-np.clip(x, -500, 500)))


def softmax(a):
    a = a - a.max(axis=1, keepdims=True)
    e = np.exp(a)
    return e / e.sum(axis=1, keepdims=True)


class LearnerNet:
    """A correct two-layer net, book style: sigmoid (or tanh / relu) hidden layer, softmax."""

    activation = "sigmoid"

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": weight_init_std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }

    def hidden(self, a1):
        if self.activation == "tanh":
            return np.tanh(a1)
        if self.activation == "relu":
            return np.maximum(0, a1)
        return sigmoid(a1)

    def hidden_backward(self, dz1, a1, z1):
        if self.activation == "tanh":
            return dz1 * (1 - np.tanh(a1) ** 2)
        if self.activation == "relu":
            return dz1 * (a1 > 0)
        return dz1 * z1 * (1 - z1)

    def forward(self, x):
        a1 = x @ self.params["W1"] + self.params["b1"]
        z1 = self.hidden(a1)
        a2 = z1 @ self.params["W2"] + self.params["b2"]
        return a1, z1, a2

    def predict(self, x):
        return softmax(self.forward(x)[2])

    def loss(self, x, t):
        y = self.predict(x)
        if t.ndim == 1:
            t = np.eye(y.shape[1])[t]
        return -np.sum(t * np.log(y + 1e-7)) / x.shape[0]

    def output_delta(self, y, t):
        return (y - t) / y.shape[0]

    def gradient(self, x, t):
        a1, z1, a2 = self.forward(x)
        y = softmax(a2)
        if t.ndim == 1:
            t = np.eye(y.shape[1])[t]
        dy = self.output_delta(y, t)
        grads = {"W2": z1.T @ dy, "b2": self.bias_grad(dy)}
        da1 = self.hidden_backward(dy @ self.params["W2"].T, a1, z1)
        grads["W1"] = x.T @ da1
        grads["b1"] = self.bias_grad(da1)
        return grads

    def bias_grad(self, d):
        return d.sum(axis=0)

    def accuracy(self, x, t):
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        return float(np.mean(self.predict(x).argmax(axis=1) == labels))


class ReluNet(LearnerNet):
    activation = "relu"


class TanhNet(LearnerNet):
    activation = "tanh"


class SigmoidGradOnPreactivation(LearnerNet):
    """Seed 001/002 style: the derivative y(1-y) computed from the pre-activation a, not y."""

    def hidden_backward(self, dz1, a1, z1):
        return dz1 * a1 * (1 - a1)


class TanhInPlaceOfDerivative(TanhNet):
    """Seed 004: tanh(z) used where its derivative 1 - tanh(z)^2 belongs."""

    def hidden_backward(self, dz1, a1, z1):
        return dz1 * np.tanh(a1)


class FlippedSignW2(LearnerNet):
    """The gradient of one tensor points the wrong way (a 'descent' that climbs)."""

    def gradient(self, x, t):
        grads = super().gradient(x, t)
        grads["W2"] = -grads["W2"]
        return grads


class MissingOneOverN(LearnerNet):
    """Seed 003 style: the loss is a mean but the gradient is summed over the batch."""

    def output_delta(self, y, t):
        return y - t


class BiasSummedOverWrongAxis(LearnerNet):
    """db = d.sum(axis=1): one number per sample instead of one per unit."""

    def bias_grad(self, d):
        return d.sum(axis=1)


# -- the doctor's gallery: the seed stories, bug for bug, and one class per planted bug --------
#
# Written the way the seeds' authors write (np.random where they use it, per-sample loops,
# lowercase names), so the doctor meets the code it will meet. Each docstring names the bugs;
# tests/test_doctor_gallery.py names the codes each must get.


def book_numerical_gradient(f, x):
    """The book's loop (chapter 4): one central difference per entry. Never run in the tests on
    a whole network: it is what makes seed 002 slow."""
    h = 1e-4
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    while not it.finished:
        idx = it.multi_index
        tmp_val = x[idx]
        x[idx] = tmp_val + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
        it.iternext()
    return grad


class Seed000RawPixels:
    """Seed 000 (梯度一直为零): fed raw 0-255 pixels; lowercase w1/b1/w2/b2; a sigmoid whose
    overflow guard `(a > 100) & (a < -100)` never selects anything; the book's 1-D softmax
    (max and sum over the whole batch) used on a batch; cross-entropy summed, not averaged;
    trained by numerical gradient only. Feed it x * 255."""

    def __init__(self, input_size=784, hidden_size=100, output_size=10, weight_init_std=0.01):
        np.random.seed(0)
        self.params = {}
        self.params["w1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["w2"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def predict(self, x):
        w1, w2 = self.params["w1"], self.params["w2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        a1 = np.dot(x, w1) + b1
        z1 = self.sigmoid(a1)
        a2 = np.dot(z1, w2) + b2
        return self.softmax(a2)

    def loss(self, x, t):
        y = self.predict(x)
        delta = 1e-7
        return -np.sum(t * np.log(y + delta))

    def numerical_gradient(self, x, t):
        loss_w = lambda w: self.loss(x, t)  # noqa: E731 (as the book writes it)
        return {k: book_numerical_gradient(loss_w, self.params[k]) for k in self.params}

    @staticmethod
    def softmax(a):
        c = np.max(a)
        exp_a = np.exp(a - c)
        sum_exp_a = np.sum(exp_a)
        return exp_a / sum_exp_a

    @staticmethod
    def sigmoid(a):
        sel = (a > 100) & (a < -100)
        out = 1 / (1 + np.exp(-a))
        out[sel] = 1 / (1 + np.exp(-100))
        return out


class Seed001NoLearningRate:
    """Seed 001 (输出几乎全为零): weights `2 * np.random.random((784, 16)) - 1` (std 0.58 for 784
    inputs), no biases; sigmoid hidden and output layers against one-hot targets; squared error
    summed over the batch; `gradient` returns the learner's adjustments (t - y) * y(1 - y)
    backpropagated, the *negative* gradient, because the loop does `weights += adjustment`,
    with no learning rate (lr 1). The inputs were divided by 256 although already in [0, 1]:
    feed it x / 256. (Its sigmoid_derivative(x) = x(1 - x) is applied to outputs: correct.)"""

    def __init__(self, input_size=784, hidden_size=16, output_size=10):
        np.random.seed(1)
        self.params = {
            "W1": 2 * np.random.random((input_size, hidden_size)) - 1,
            "W2": 2 * np.random.random((hidden_size, output_size)) - 1,
        }

    @staticmethod
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    @staticmethod
    def sigmoid_derivative(x):
        return x * (1 - x)

    def forward(self, x):
        trained_hidden = self.sigmoid(np.dot(x, self.params["W1"]))
        trained_outputs = self.sigmoid(np.dot(trained_hidden, self.params["W2"]))
        return trained_hidden, trained_outputs

    def predict(self, x):
        return self.forward(x)[1]

    def loss(self, x, t):
        return 0.5 * np.sum((t - self.predict(x)) ** 2)

    def gradient(self, x, t):
        trained_hidden, trained_outputs = self.forward(x)
        o_error = t - trained_outputs
        o_adjustments = o_error * self.sigmoid_derivative(trained_outputs)
        h_error = np.dot(o_adjustments, self.params["W2"].T)
        h_adjustments = h_error * self.sigmoid_derivative(trained_hidden)
        return {
            "W1": np.dot(x.T, h_adjustments),
            "W2": np.dot(trained_hidden.T, o_adjustments),
        }


class Seed002BookNumerical:
    """Seed 002: the book's chapter-4 TwoLayerNet, trained by numerical_gradient with
    gradient() commented out. Correct, only slow: nothing here is an error."""

    def __init__(self, input_size=784, hidden_size=100, output_size=10, weight_init_std=0.01):
        np.random.seed(2)
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def predict(self, x):
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        a1 = np.dot(x, W1) + b1
        z1 = 1 / (1 + np.exp(-a1))
        a2 = np.dot(z1, W2) + b2
        a2 = a2.T
        a2 = a2 - np.max(a2, axis=0)
        return (np.exp(a2) / np.sum(np.exp(a2), axis=0)).T

    def loss(self, x, t):
        y = self.predict(x)
        if t.size == y.size:
            t = t.argmax(axis=1)
        batch_size = y.shape[0]
        return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size

    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t)  # noqa: E731
        return {k: book_numerical_gradient(loss_W, self.params[k]) for k in self.params}


class Seed003ExplodingToNaN:
    """Seed 003 (权重爆炸到 nan): float32 weights from np.random.rand (all positive, std 0.58 on
    784 inputs), so every sigmoid sits at 1; `1/sum(exp(z)) * exp(z)` with Python's sum, which
    normalizes each *column* over the batch; labels as an (N, 1) column of indices, so
    `y - A2` broadcasts the label over all ten classes and `v[y]` picks rows; the derivatives
    z(1 - z) taken at the pre-activations Z1, Z2 (about 50 and 15) instead of the outputs;
    everything summed over the batch; gradients under the keys dW1, db1, ... Trained with
    alpha = 0.001 it reaches NaN on the third iteration. Feed it t.reshape(-1, 1)."""

    def __init__(self, nx=784, nh=30, ny=10):
        np.random.seed(3)
        self.ny = ny
        self.params = {
            "W1": np.random.rand(nx, nh).astype(np.float32),
            "b1": np.zeros((1, nh), dtype=np.float32),
            "W2": np.random.rand(nh, ny).astype(np.float32),
            "b2": np.zeros((1, ny), dtype=np.float32),
        }

    @staticmethod
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    @staticmethod
    def sigmoid_der(z):
        return z * (1 - z)

    @staticmethod
    def softmax(z):
        return 1 / sum(np.exp(z)) * np.exp(z)

    def forward_prop(self, X):
        outs = {"A0": X}
        outs["Z1"] = np.matmul(outs["A0"], self.params["W1"]) + self.params["b1"]
        outs["A1"] = self.sigmoid(outs["Z1"])
        outs["Z2"] = np.matmul(outs["A1"], self.params["W2"]) + self.params["b2"]
        outs["A2"] = self.softmax(outs["Z2"])
        return outs

    def predict(self, X):
        return self.forward_prop(X)["A2"]

    def loss(self, X, y):
        v = self.predict(X)
        return 1 / self.ny * np.sum(-np.log(v[y]))

    def gradient(self, X, y):
        outs = self.forward_prop(X)
        Eo = (y - outs["A2"]) * self.sigmoid_der(outs["Z2"])  # softmax_der = sigmoid_der
        Eh = np.matmul(Eo, self.params["W2"].T) * self.sigmoid_der(outs["Z1"])
        return {
            "dW2": np.matmul(Eo.T, outs["A1"]).T,
            "dW1": np.matmul(Eh.T, X).T,
            "db2": np.sum(Eo, 0),
            "db1": np.sum(Eh, 0),
        }


class Seed004TanhOutput:
    """Seed 004 (模型不训练): column-vector code (w1: (10, 784), a = w1 @ x + b1) run one sample
    at a time; every weight and bias from np.random.rand (all positive); ReLU hidden layer,
    tanh output against one-hot targets of 0 and 1; tanh(z2) used where its derivative
    1 - tanh(z2)**2 belongs; the error a2 - y summed over the samples. Its data (sklearn's 8x8
    digits) go from 0 to 16, unscaled: feed it x * 16. Labels are indices."""

    def __init__(self, input_size=784, hidden_size=10, output_size=10):
        np.random.seed(4)
        self.params = {
            "w1": np.random.rand(hidden_size, input_size),
            "b1": np.random.rand(hidden_size, 1),
            "w2": np.random.rand(output_size, hidden_size),
            "b2": np.random.rand(output_size, 1),
        }

    def forward_prop(self, x):
        w1, b1, w2, b2 = (self.params[k] for k in ("w1", "b1", "w2", "b2"))
        z1 = w1.dot(x).reshape(-1, 1) + b1
        a1 = np.maximum(0, z1)
        z2 = w2.dot(a1) + b2
        a2 = np.tanh(z2)
        return z1, a1, z2, a2

    def predict(self, X):
        return np.array([self.forward_prop(x.reshape(-1, 1))[3][:, 0] for x in X])

    @staticmethod
    def one_hot(y):
        one_hot_y = np.zeros((y.size, 10))
        one_hot_y[np.arange(y.size), y] = 1
        return one_hot_y.T

    def loss(self, X, Y):
        total = 0.0
        for x, y in zip(X, Y, strict=True):
            a2 = self.forward_prop(x.reshape(-1, 1))[3]
            total += 0.5 * np.sum((a2 - self.one_hot(np.array([y]))) ** 2)
        return total

    def gradient(self, X, Y):
        grads = None
        for x, y in zip(X, Y, strict=True):
            x = x.reshape(-1, 1)
            z1, a1, z2, a2 = self.forward_prop(x)
            dz2 = (a2 - self.one_hot(np.array([y]))) * np.tanh(z2)
            dz1 = self.params["w2"].T.dot(dz2) * (z1 > 0)
            step = {"w1": dz1.dot(x.T), "b1": dz1, "w2": dz2.dot(a1.T), "b2": dz2}
            if grads is None:
                grads = step
            else:
                for k in grads:
                    grads[k] += step[k]
        return grads


class SoftmaxOverBatch(LearnerNet):
    """The book's 1-D softmax (np.max and np.sum over everything) applied to a batch."""

    def predict(self, x):
        a = self.forward(x)[2]
        e = np.exp(a - np.max(a))
        return e / np.sum(e)


class RandInit(LearnerNet):
    """All-positive initial weights: 0.01 * np.random.rand instead of randn."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, seed=0):
        super().__init__(input_size, hidden_size, output_size, weight_init_std, seed)
        rng = np.random.default_rng(seed)
        for k in ("W1", "W2"):
            self.params[k] = weight_init_std * rng.random(self.params[k].shape)


class ZeroInit(LearnerNet):
    """The first layer's weights start at zero: the hidden units stay identical forever."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, seed=0):
        super().__init__(input_size, hidden_size, output_size, weight_init_std, seed)
        self.params["W1"][...] = 0


class NegativeBiasRelu(ReluNet):
    """ReLU units pushed below zero for good (as a too-large step leaves them): b1 = -3."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.05, seed=0):
        super().__init__(input_size, hidden_size, output_size, weight_init_std, seed)
        self.params["b1"][...] = -3.0


class SummedLoss(LearnerNet):
    """Loss and gradient both summed over the batch: right gradient, batch-size-bound rate."""

    def loss(self, x, t):
        return super().loss(x, t) * x.shape[0]

    def output_delta(self, y, t):
        return y - t


class LogitsFromPredict(ReluNet):
    """CS231n style: predict returns scores; the loss applies softmax itself. Correct."""

    def predict(self, x):
        return self.forward(x)[2]

    def loss(self, x, t):
        y = softmax(self.forward(x)[2])
        return -np.sum(t * np.log(y + 1e-7)) / x.shape[0]


class NaNWeights(LearnerNet):
    """A weight that already went NaN (as after an overflowing step)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.params["W1"][3, 5] = np.nan


class ShapeBugInPredict(LearnerNet):
    """predict multiplies by W1.T: a ValueError on the first call."""

    def predict(self, x):
        return softmax(np.dot(x, self.params["W1"].T))


class UpdatesInsideGradient(LearnerNet):
    """gradient() also takes an SGD step on the weights it was asked to differentiate."""

    def gradient(self, x, t):
        grads = super().gradient(x, t)
        for k in grads:
            self.params[k] -= 0.1 * grads[k]
        return grads


class DeepLearnerNet:
    """784-100-100-100-10 with ReLU, book style, W1..W4; the book's 0.01 init is too small for
    this depth (the signal shrinks ~1000 times before the output)."""

    def __init__(self, sizes=(784, 100, 100, 100, 10), weight_init_std=0.01, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {}
        for i, (n_in, n_out) in enumerate(itertools.pairwise(sizes), start=1):
            self.params[f"W{i}"] = weight_init_std * rng.standard_normal((n_in, n_out))
            self.params[f"b{i}"] = np.zeros(n_out)
        self.depth = len(sizes) - 1

    def forward(self, x):
        hs, pre = [x], []
        for i in range(1, self.depth + 1):
            a = hs[-1] @ self.params[f"W{i}"] + self.params[f"b{i}"]
            pre.append(a)
            hs.append(np.maximum(0, a) if i < self.depth else a)
        return hs, pre

    def predict(self, x):
        return softmax(self.forward(x)[1][-1])

    def loss(self, x, t):
        y = self.predict(x)
        return -np.sum(t * np.log(y + 1e-7)) / x.shape[0]

    def gradient(self, x, t):
        hs, pre = self.forward(x)
        d = (softmax(pre[-1]) - t) / x.shape[0]
        grads = {}
        for i in range(self.depth, 0, -1):
            grads[f"W{i}"] = hs[i - 1].T @ d
            grads[f"b{i}"] = d.sum(axis=0)
            if i > 1:
                d = (d @ self.params[f"W{i}"].T) * (pre[i - 2] > 0)
        return grads

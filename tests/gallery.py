"""Networks written the way learners write them (a class with `params`, `predict`, `loss`,
`gradient`), each subclass planting one bug from the seed stories. Shared by the gradient-check
and doctor tests; none of this uses digitlab."""

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

"""Layers with the book's forward/backward protocol.

A layer's `forward(x, train)` caches what its `backward(dout)` needs and nothing more. Layers with
parameters do not own them: they hold the network's `params` dict and the names of their entries,
so `network.params['W1'] -= ...` (or even replacing the array) is seen by the layer at once, and
they write their gradients into `self.grads` under the same names — the same-keys dicts that
every optimizer and gradient check works on.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from digitlab.nn.functional import relu, sigmoid, softmax_cross_entropy


class Layer:
    """Base class: a layer without parameters. Subclasses override forward and backward."""

    #: names of this layer's entries in the shared params dict
    param_names: tuple[str, ...] = ()
    #: for a layer whose forward is a fixed elementwise function (an activation), that function;
    #: it lets fast finite differences push a change of one unit through the layer alone
    elementwise: Callable[[np.ndarray], np.ndarray] | None = None

    def __init__(self) -> None:
        self.grads: dict[str, np.ndarray] = {}

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        raise NotImplementedError

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        """Gradients of the loss: stores d/dparams in self.grads, returns d/dx.

        input_grad=False skips d/dx (returns None): the first layer's input is the data, whose
        gradient nobody needs, and skipping it saves one of the step's large matrix products.
        """
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Affine(Layer):
    """y = x @ W + b. x: (N, D_in) -> (N, D_out); W: (D_in, D_out), b: (D_out,)."""

    def __init__(self, params: dict[str, np.ndarray], weight: str, bias: str) -> None:
        super().__init__()
        self.params = params
        self.param_names = (weight, bias)
        self.x: np.ndarray | None = None

    @property
    def W(self) -> np.ndarray:
        return self.params[self.param_names[0]]

    @property
    def b(self) -> np.ndarray:
        return self.params[self.param_names[1]]

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self.x = x
        out = x @ self.W
        out += self.b
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        weight, bias = self.param_names
        self.grads[weight] = self.x.T @ dout
        self.grads[bias] = dout.sum(axis=0)
        return dout @ self.W.T if input_grad else None

    def __repr__(self) -> str:
        d_in, d_out = self.W.shape
        return f"Affine({d_in}→{d_out}, {self.param_names[0]}, {self.param_names[1]})"


class Sigmoid(Layer):
    """Elementwise logistic function; backward uses y(1 - y) of the cached *output*."""

    elementwise = staticmethod(sigmoid)

    def __init__(self) -> None:
        super().__init__()
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        y = self.out
        return dout * (1.0 - y) * y


class ReLU(Layer):
    """max(0, x) elementwise; the gradient passes where x > 0."""

    elementwise = staticmethod(relu)

    def __init__(self) -> None:
        super().__init__()
        self.mask: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return dout * self.mask


class SoftmaxWithLoss:
    """Softmax followed by mean cross-entropy: the output layer of a classifier.

    forward(scores: (N, C), t: (N,) int or (N, C) one-hot) -> loss (float);
    backward() -> d loss / d scores = (softmax(scores) - t) / N.
    """

    def __init__(self) -> None:
        self.probs: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, scores: np.ndarray, t: np.ndarray) -> float:
        loss, self.probs = softmax_cross_entropy(scores, t)
        self.t = t
        return loss

    def backward(self) -> np.ndarray:
        n = self.probs.shape[0]
        dx = self.probs.copy()
        if self.t.ndim == 1:
            dx[np.arange(n), self.t] -= 1.0
        else:
            dx -= self.t
        dx /= n
        return dx

    def __repr__(self) -> str:
        return "SoftmaxWithLoss()"


ACTIVATIONS: dict[str, type[Layer]] = {"sigmoid": Sigmoid, "relu": ReLU}

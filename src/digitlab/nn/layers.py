"""Layers with the book's forward/backward protocol.

A layer's `forward(x, train)` caches what its `backward(dout)` needs and nothing more. Layers with
parameters do not own them: they hold the network's `params` dict and the names of their entries,
so `network.params['W1'] -= ...` (or even replacing the array) is seen by the layer at once, and
they write their gradients into `self.grads` under the same names — the same-keys dicts that
every optimizer and gradient check works on.

A layer's other arrays that predictions depend on (BatchNorm's running statistics) are not
parameters — no optimizer may touch them — and live in its `state` dict, named like the params.
`frozen()` makes train-mode passes repeatable and side-effect free: Dropout reuses its mask and
BatchNorm leaves its running statistics alone, so a train-mode loss is a fixed function of the
parameters, as a gradient check needs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from functools import partial

import numpy as np

from digitlab.nn.functional import leaky_relu, relu, sigmoid, softmax_cross_entropy


class Layer:
    """Base class: a layer without parameters. Subclasses override forward and backward."""

    #: names of this layer's entries in the shared params dict
    param_names: tuple[str, ...] = ()
    #: for a layer whose forward is a fixed elementwise function (an activation), that function;
    #: it lets fast finite differences push a change of one unit through the layer alone
    elementwise: Callable[[np.ndarray], np.ndarray] | None = None
    #: True inside `frozen()`
    is_frozen: bool = False
    #: the book's name for layers of this kind, numbered in a network: "Affine" -> "Affine1"
    book_name: str = ""

    def __init__(self) -> None:
        self.grads: dict[str, np.ndarray] = {}
        #: arrays the layer keeps that are not parameters (BatchNorm's running statistics)
        self.state: dict[str, np.ndarray] = {}

    @contextmanager
    def frozen(self) -> Iterator[None]:
        """Inside, train-mode forward passes repeat their randomness and change no state."""
        was_frozen = self.is_frozen
        self.is_frozen = True
        try:
            yield
        finally:
            self.is_frozen = was_frozen

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


class WeightedLayer(Layer):
    """A layer with a weight W and a bias b, read from the network's params dict under the
    names `param_names` at every pass; dW and db are the book's names of their gradients."""

    def __init__(self, params: dict[str, np.ndarray], weight: str, bias: str) -> None:
        super().__init__()
        self.params = params
        self.param_names = (weight, bias)

    @property
    def W(self) -> np.ndarray:
        return self.params[self.param_names[0]]

    @property
    def b(self) -> np.ndarray:
        return self.params[self.param_names[1]]

    @property
    def dW(self) -> np.ndarray | None:
        """The last backward's gradient of W."""
        return self.grads.get(self.param_names[0])

    @property
    def db(self) -> np.ndarray | None:
        return self.grads.get(self.param_names[1])


class Affine(WeightedLayer):
    """y = x @ W + b. x: (N, D_in) -> (N, D_out); W: (D_in, D_out), b: (D_out,).

    As in the book, an input of more dimensions (N, C, H, W) is flattened to (N, C*H*W) first,
    and its gradient given back in the input's shape.
    """

    def __init__(self, params: dict[str, np.ndarray], weight: str, bias: str) -> None:
        super().__init__(params, weight, bias)
        self.x: np.ndarray | None = None
        self.x_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self.x_shape = x.shape
        if x.ndim != 2:
            # contiguous rows: a strided view would send the product past BLAS, 100x slower
            x = np.ascontiguousarray(x.reshape(len(x), -1))
        self.x = x
        out = x @ self.W
        out += self.b
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        weight, bias = self.param_names
        self.grads[weight] = self.x.T @ dout
        self.grads[bias] = dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.x_shape) if input_grad else None

    def __repr__(self) -> str:
        d_in, d_out = self.W.shape
        return f"Affine({d_in}→{d_out}, {self.param_names[0]}, {self.param_names[1]})"


class Sigmoid(Layer):
    """Elementwise logistic function; backward uses y(1 - y) of the cached *output*."""

    elementwise = staticmethod(sigmoid)
    #: the last forward pass's output, (N, units): backward's cache, and what the doctor's
    #: training watcher reads to see saturated units
    out: np.ndarray | None

    def __init__(self) -> None:
        super().__init__()
        self.out = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        y = self.out
        return dout * (1.0 - y) * y


class ReLU(Layer):
    """max(0, x) elementwise; the gradient passes where x > 0."""

    book_name = "Relu"

    elementwise = staticmethod(relu)
    #: which units fired (x > 0) in the last forward pass, (N, units): backward's cache, and
    #: what the doctor's training watcher reads to see dead units
    mask: np.ndarray | None

    def __init__(self) -> None:
        super().__init__()
        self.mask = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self.mask = x > 0
        return x * self.mask

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return dout * self.mask


class Tanh(Layer):
    """Elementwise tanh (np.tanh saturates to +-1 without overflow); backward uses 1 - y^2 of
    the cached output."""

    elementwise = staticmethod(np.tanh)

    def __init__(self) -> None:
        super().__init__()
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self.out = np.tanh(x)
        return self.out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        y = self.out
        return dout * (1.0 - y * y)


class LeakyReLU(Layer):
    """x where x > 0, else negative_slope * x: a ReLU whose units never stop learning entirely.

    forward caches the local slope (1 or negative_slope, in x's dtype); backward multiplies by it.
    """

    book_name = "LeakyRelu"

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)
        self.elementwise = partial(leaky_relu, negative_slope=self.negative_slope)
        self.slopes: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        one, slope = x.dtype.type(1), x.dtype.type(self.negative_slope)
        self.slopes = np.where(x > 0, one, slope)
        return x * self.slopes

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return dout * self.slopes

    def __repr__(self) -> str:
        return f"LeakyReLU(negative_slope={self.negative_slope:g})"


class Dropout(Layer):
    """Inverted dropout: in training, each unit of each sample is kept with probability 1 - p
    and scaled by 1 / (1 - p); in evaluation the layer is the identity.

    Scaling the kept units during training (instead of scaling all units by 1 - p at test time,
    as the book's Dropout does) keeps every unit's expected value the same in both modes, so
    predict, accuracy and saved models need not know p. The masks come from the layer's own
    generator, so a seeded network drops the same units in every run. Inside `frozen()` the
    last mask is reused (a new one is drawn only for a batch of another shape) and the
    generator is restored on exit, so a gradient check leaves the training run unchanged.

    x: (N, D) float32 or float64 -> same shape and dtype.
    """

    def __init__(self, p: float, rng: np.random.Generator) -> None:
        super().__init__()
        self.p = float(p)
        self.rng = rng
        #: the last training mask, already scaled: 0 or 1 / (1 - p), in the input's dtype
        self.mask: np.ndarray | None = None
        self.dropped = False

    @contextmanager
    def frozen(self) -> Iterator[None]:
        generator_state = self.rng.bit_generator.state
        try:
            with super().frozen():
                yield
        finally:
            self.rng.bit_generator.state = generator_state

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self.dropped = train
        if not train:
            return x
        mask = self.mask
        if not self.is_frozen or mask is None or mask.shape != x.shape or mask.dtype != x.dtype:
            keep = self.rng.random(x.shape, dtype=x.dtype) >= self.p
            self.mask = mask = keep * x.dtype.type(1.0 / (1.0 - self.p))
        return x * mask

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return dout * self.mask if self.dropped else dout

    def __repr__(self) -> str:
        return f"Dropout(p={self.p:g})"


class BatchNorm(Layer):
    """Batch normalization (Ioffe & Szegedy 2015), per feature: y = gamma * x_hat + beta.

    In training, x_hat = (x - mean) / sqrt(var + eps) with the mean and (biased) variance of
    the batch, and the running statistics move towards them:
    running = momentum * running + (1 - momentum) * batch (the book's and CS231n's convention).
    In evaluation, the running statistics stand in for the batch's, so a prediction does not
    depend on the other samples in its batch.

    x: (N, D) -> (N, D), or images (N, C, H, W) normalized per channel over the batch and
    every pixel (D = C; as PyTorch's BatchNorm2d). gamma, beta: (D,) parameters in the shared
    params dict; the running
    mean and variance: (D,) arrays in `self.state`, starting at 0 and 1 so that an untrained
    network's evaluation pass is the identity transform, not a division by sqrt(eps).
    """

    def __init__(
        self,
        params: dict[str, np.ndarray],
        gamma: str,
        beta: str,
        running_mean: str,
        running_var: str,
        *,
        momentum: float = 0.9,
        eps: float = 1e-5,
    ) -> None:
        super().__init__()
        self.params = params
        self.param_names = (gamma, beta)
        self.state_names = (running_mean, running_var)
        size, dtype = params[gamma].shape[0], params[gamma].dtype
        self.state[running_mean] = np.zeros(size, dtype=dtype)
        self.state[running_var] = np.ones(size, dtype=dtype)
        self.momentum = float(momentum)
        # eps keeps the division finite for a feature that is constant over the batch
        # (always the case for a batch of one sample)
        self.eps = float(eps)
        self.x_hat: np.ndarray | None = None
        self.std: np.ndarray | None = None
        self.batch_statistics = True

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        if x.ndim == 4:  # images: one feature per channel, every pixel of it a sample
            n, c, h, w = x.shape
            rows = self.forward(x.transpose(0, 2, 3, 1).reshape(-1, c), train)
            return rows.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        gamma, beta = (self.params[name] for name in self.param_names)
        running_mean, running_var = (self.state[name] for name in self.state_names)
        if train:
            mean = x.mean(axis=0)
            centred = x - mean
            var = np.mean(centred * centred, axis=0)
            if not self.is_frozen:
                running_mean *= self.momentum
                running_mean += (1.0 - self.momentum) * mean
                running_var *= self.momentum
                running_var += (1.0 - self.momentum) * var
        else:
            centred = x - running_mean
            var = running_var
        self.batch_statistics = train
        self.std = np.sqrt(var + self.eps)
        self.x_hat = centred / self.std
        out = self.x_hat * gamma
        out += beta
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        if dout.ndim == 4:
            n, c, h, w = dout.shape
            rows = self.backward(dout.transpose(0, 2, 3, 1).reshape(-1, c), input_grad)
            return None if rows is None else rows.reshape(n, h, w, c).transpose(0, 3, 1, 2)
        gamma_name, beta_name = self.param_names
        x_hat = self.x_hat
        self.grads[gamma_name] = np.sum(dout * x_hat, axis=0)
        self.grads[beta_name] = dout.sum(axis=0)
        if not input_grad:
            return None
        dx_hat = dout * self.params[gamma_name]
        if not self.batch_statistics:
            return dx_hat / self.std
        # The batch mean and variance depend on every sample: their share of the gradient is
        # the mean of dx_hat and the mean of dx_hat * x_hat, subtracted from each sample's.
        dx = dx_hat - dx_hat.mean(axis=0)
        dx -= x_hat * np.mean(dx_hat * x_hat, axis=0)
        dx /= self.std
        return dx

    def __repr__(self) -> str:
        size = self.params[self.param_names[0]].shape[0]
        return f"BatchNorm({size}, {self.param_names[0]}, {self.param_names[1]})"


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


#: the hidden-layer activations a network can be built with, by name
ACTIVATIONS: dict[str, type[Layer]] = {
    "relu": ReLU,
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "leaky_relu": LeakyReLU,
}


class Layers(list):
    """A network's layers in order, as a list (`layers[0]`, `for layer in layers`), each also
    reachable by its book name: `layers["Affine1"]`, `layers["Conv1"]`; `keys()`, `values()`
    and `items()` as on the book's OrderedDict. Names number each kind from 1 in order: Conv1,
    Relu1, Pool1, Affine1, Relu2, Affine2."""

    def __init__(self, layers: Iterable[Layer] = ()) -> None:
        super().__init__()
        self._names: list[str] = []
        for layer in layers:
            self.append(layer)

    def append(self, layer: Layer) -> None:
        kind = layer.book_name or type(layer).__name__
        number = sum(1 for other in self if (other.book_name or type(other).__name__) == kind)
        super().append(layer)
        self._names.append(f"{kind}{number + 1}")

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self._names:
                raise KeyError(f"no layer named {key!r}; the layers are {', '.join(self._names)}")
            return super().__getitem__(self._names.index(key))
        return super().__getitem__(key)

    def __contains__(self, key) -> bool:
        return key in self._names if isinstance(key, str) else super().__contains__(key)

    def keys(self) -> list[str]:
        return list(self._names)

    def __reduce__(self):
        # rebuilt from its layers through __init__: the default for a list subclass would set
        # the names and then append every layer again, naming each twice (copy.deepcopy)
        return (type(self), (list(self),))

    def values(self) -> list[Layer]:
        return list(self)

    def items(self) -> list[tuple[str, Layer]]:
        return list(zip(self._names, self, strict=True))

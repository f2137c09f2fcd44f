"""The book's central differences for every parameter of a digitlab network, in seconds.

`numerical_gradient` in the book perturbs one weight at a time and runs a full forward pass for
each: 2 x 79,510 passes for 784-100-10. Yet perturbing W[i, j] of an Affine layer changes one
column of its output, and only in the rows (samples) where the layer's input x[:, i] is not zero.
This module computes exactly the same differences, (f(w + h) - f(w - h)) / 2h with f the mean
loss, from cached values:

* an event is one sample n whose pre-activation z[n, j] moves by +-h * x[n, i] (or +-h for a
  bias); events of many weights are evaluated at once, as arrays;
* through an elementwise activation an event stays one number, the change of unit j;
* the next Affine layer turns it into a change of a whole row, pushed through the remaining
  layers like an ordinary forward pass;
* at the softmax, the change of sample n's loss is computed directly, as
  log(sum_c p_c e^{ds_c}) - t . ds = log1p(sum_c p_c expm1(ds_c)) - t . ds, which stays exact
  where the book's f(w + h) - f(w - h) loses digits to cancellation;
* the weight's difference quotient is the sum of its events' changes over the batch, / 2hN.

Samples a weight does not touch contribute exactly nothing, as in the book's loop. Weight decay
adds its exact central difference, lambda * W.

A digitlab network with other layers (a conv net's Convolution and Pooling, BatchNorm, Dropout)
gets this for its trailing chain of Affine and elementwise layers (a conv net's fully connected
part: 432,000 of SimpleConvNet's 433,890 parameters), fed the cached output of the layers
before it; every parameter before that chain gets the book's one-weight-at-a-time loop, but
each run from the input of its own layer (the layers before it run once, not twice per
weight). Any other network gets the book's loop.

What is differentiated is the loss that backpropagation differentiates: for a digitlab network
the training-mode loss, evaluated inside `network.frozen()` so Dropout's masks stay fixed and
BatchNorm's running statistics are left alone; for any other network `loss(x, t)`.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext

import numpy as np

from digitlab.nn.base import Network
from digitlab.nn.layers import Affine, SoftmaxWithLoss
from digitlab.nn.numerical import DEFAULT_H, numerical_gradient

#: elements of the largest temporary array per chunk of events (float64: 8 bytes each)
CHUNK_ELEMENTS = 1 << 20


def training_loss(network, x: np.ndarray, t: np.ndarray) -> Callable[[], float]:
    """The loss that `network.gradient(x, t)` differentiates, as a function of the params.

    A digitlab network's training-mode loss (call it inside `frozen(network)` to keep Dropout's
    masks fixed); any other network's `loss(x, t)`.
    """
    if isinstance(network, Network):
        return lambda: network.loss(x, t, train=True)
    return lambda: network.loss(x, t)


def frozen(network) -> AbstractContextManager:
    """`network.frozen()` for a digitlab network (repeatable training passes), else nothing."""
    return network.frozen() if isinstance(network, Network) else nullcontext()


def supports_fast_path(network) -> bool:
    """Whether `network` is a chain of Affine and elementwise layers ending in softmax loss."""
    return _chain_start(network) == 0


def _chain_start(network) -> int | None:
    """Where the trailing chain of Affine and elementwise layers (ending in an Affine layer and
    softmax loss) of a digitlab network's layers starts; None if it has none."""
    layers = getattr(network, "layers", None)
    if not layers or not isinstance(getattr(network, "last_layer", None), SoftmaxWithLoss):
        return None
    if not isinstance(layers[-1], Affine):
        return None
    start = len(layers)
    while start > 0 and (isinstance(layers[start - 1], Affine) or layers[start - 1].elementwise):
        start -= 1
    while not isinstance(layers[start], Affine):  # the chain's first layer holds weights
        start += 1
    return start


def finite_differences(
    network, x: np.ndarray, t: np.ndarray, h: float = DEFAULT_H
) -> dict[str, np.ndarray]:
    """Central differences of the network's training loss for every entry of `params`.

    x: (N, D) inputs; t: (N,) int labels or (N, C) one-hot / soft targets. Returns a dict with
    the keys and shapes of `params` (in the params' dtype), computed in float64 by the fast
    path where `supports_fast_path(network)`, else by the book's loop (see `training_loss`).
    """
    start = _chain_start(network) if isinstance(network, Network) else None
    if start is None:
        loss = training_loss(network, x, t)
        with frozen(network):
            return {
                name: numerical_gradient(lambda _: loss(), param, h)
                for name, param in network.params.items()
            }
    x = network.as_input(x)
    t = network._targets(x, t)
    grads: dict[str, np.ndarray] = {}
    with network.frozen():
        inputs = [x]  # inputs[k] is what layer k receives in training mode
        for layer in network.layers[:start]:
            inputs.append(layer.forward(inputs[-1], True))
        for index, layer in enumerate(network.layers[:start]):
            for name in layer.param_names:

                def loss_from_here(_, first: int = index) -> float:
                    out = inputs[first]
                    for later in network.layers[first:]:
                        out = later.forward(out, True)
                    loss = network.last_layer.forward(out, t)
                    return loss + network._weight_penalty() if network.weight_decay else loss

                grads[name] = numerical_gradient(loss_from_here, network.params[name], h)
    chain = _Chain(network, network.layers[start:], inputs[start], t, h)
    grads.update(chain.gradients())
    return {name: grads[name].astype(p.dtype, copy=False) for name, p in network.params.items()}


class _Chain:
    """A chain of a network's layers (Affine and elementwise, the last Affine) and its forward
    pass in float64 from x, cached, and the events that perturb it."""

    def __init__(self, network, layers, x: np.ndarray, t: np.ndarray, h: float) -> None:
        self.network = network
        self.layers = layers
        self.h = float(h)
        self.params = {k: np.asarray(v, dtype=np.float64) for k, v in network.params.items()}
        x = np.asarray(x, dtype=np.float64)
        x = x.reshape(len(x), -1)  # an image batch enters the chain's first Affine flattened
        self.n = x.shape[0]
        # inputs[k] is what layer k receives; inputs[-1] are the scores
        self.inputs = [x]
        for layer in self.layers:
            self.inputs.append(self._forward(layer, self.inputs[-1]))
        scores = self.inputs[-1]
        n_classes = scores.shape[1]
        self.targets = np.eye(n_classes)[t] if t.ndim == 1 else np.asarray(t, np.float64)
        shifted = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        self.probs = exp / exp.sum(axis=1, keepdims=True)
        self.lse = np.log(exp.sum(axis=1)) + scores.max(axis=1)

    def _forward(self, layer, x: np.ndarray) -> np.ndarray:
        if isinstance(layer, Affine):
            weight, bias = layer.param_names
            return x @ self.params[weight] + self.params[bias]
        return layer.elementwise(x)

    def gradients(self) -> dict[str, np.ndarray]:
        """The chain's parameters' central differences, float64, by name."""
        grads = {}
        for index, layer in enumerate(self.layers):
            if not isinstance(layer, Affine):
                continue
            weight, bias = layer.param_names
            grads[weight] = self._weight_gradient(index)
            grads[bias] = self._bias_gradient(index)
        weight_decay = getattr(self.network, "weight_decay", 0.0)
        if weight_decay:
            # 0.5 * lambda * w^2 is quadratic: its central difference is exactly lambda * w
            for layer in self.layers:
                if isinstance(layer, Affine):
                    weight = layer.param_names[0]
                    grads[weight] += weight_decay * self.params[weight]
        return grads

    def _weight_gradient(self, index: int) -> np.ndarray:
        x_in = self.inputs[index]
        n_in, n_out = self.params[self.layers[index].param_names[0]].shape
        # Events ordered by input unit i, so each weight row's events are one contiguous run.
        rows, samples = np.nonzero(x_in.T)
        steps = self.h * x_in[samples, rows]
        grad = np.zeros((n_in, n_out))
        if len(rows) == 0:
            return grad
        starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
        for units in self._unit_chunks(index, len(rows)):
            diffs = self._loss_differences(index, samples, steps, units)
            grad[rows[starts][:, None], units] = np.add.reduceat(diffs, starts, axis=0)
        return grad / (2 * self.h * self.n)

    def _bias_gradient(self, index: int) -> np.ndarray:
        n_out = self.params[self.layers[index].param_names[1]].shape[0]
        samples = np.arange(self.n)
        steps = np.full(self.n, self.h)
        grad = np.zeros(n_out)
        for units in self._unit_chunks(index, self.n):
            grad[units] = self._loss_differences(index, samples, steps, units).sum(axis=0)
        return grad / (2 * self.h * self.n)

    def _unit_chunks(self, index: int, n_events: int):
        """Slices of output units small enough that (events x units x width) fits a chunk."""
        n_out = self.inputs[index + 1].shape[1]
        # the widest row an event's change passes through after this layer
        width = max((a.shape[1] for a in self.inputs[index + 2 :]), default=1)
        size = max(1, CHUNK_ELEMENTS // max(n_events * width, 1))
        for start in range(0, n_out, size):
            yield np.arange(start, min(start + size, n_out))

    def _loss_differences(
        self, index: int, samples: np.ndarray, steps: np.ndarray, units: np.ndarray
    ) -> np.ndarray:
        """Per event: sample's loss at +step minus at -step. Returns (events, units)."""
        plus = self._loss_change(index, samples, steps[:, None], units)
        minus = self._loss_change(index, samples, -steps[:, None], units)
        return plus - minus

    def _loss_change(
        self, index: int, samples: np.ndarray, step: np.ndarray, units: np.ndarray
    ) -> np.ndarray:
        """Change of each sample's loss when z[sample, unit] of layer `index` moves by step.

        samples: (E,), step: (E, 1), units: (U,) -> (E, U).
        """
        if index == len(self.layers) - 1:
            # The scores themselves: one score of one sample moves.
            p = self.probs[samples[:, None], units]
            t = self.targets[samples[:, None], units]
            return np.log1p(p * np.expm1(step)) - t * step
        z = self.inputs[index + 1][samples[:, None], units]
        activation = self.layers[index + 1]
        change = activation.elementwise(z + step) - self.inputs[index + 2][samples[:, None], units]
        next_affine = self.layers[index + 2]
        weight = self.params[next_affine.param_names[0]][units]  # (U, D_next)
        row_change = change[:, :, None] * weight[None]  # (E, U, D_next)
        if index + 2 < len(self.layers) - 1:
            return self._rows_loss_change(index + 2, samples, row_change)
        # The scores move by change * weight[unit]; t . that change needs no 3-d array.
        spread = np.einsum("euc,ec->eu", np.expm1(row_change, out=row_change), self.probs[samples])
        return np.log1p(spread) - change * (self.targets[samples] @ weight.T)

    def _rows_loss_change(
        self, index: int, samples: np.ndarray, row_change: np.ndarray
    ) -> np.ndarray:
        """Loss change when layer `index` (an Affine layer before the last) has its output rows
        moved by row_change, pushed through the rest of the network: (E, U, D) -> (E, U)."""
        events, units, width = row_change.shape
        rows = (self.inputs[index + 1][samples][:, None, :] + row_change).reshape(-1, width)
        for layer in self.layers[index + 1 :]:
            rows = self._forward(layer, rows)
        scores = rows.reshape(events, units, -1)
        base = self.inputs[-1][samples][:, None, :]
        top = scores.max(axis=2, keepdims=True)
        lse = np.log(np.exp(scores - top).sum(axis=2)) + top[:, :, 0]
        t = self.targets[samples][:, None, :]
        return lse - self.lse[samples][:, None] - np.sum(t * (scores - base), axis=2)

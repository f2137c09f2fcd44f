"""What every digitlab network shares: the book's API over a list of layers.

A network holds its parameters in one dict, `params`, named as in the book (`W1`, `b1`, ...,
`gamma1`, `beta1` for BatchNorm); its `layers` (in order, each also by its book name:
`layers["Affine1"]`) read them from there, and `gradient` returns a dict with the same keys, so
any optimizer's `update(params, grads)` and any gradient check works on any network. Arrays
that predictions depend on but no optimizer may change (BatchNorm's running statistics) are the
network's `state()`.

A subclass builds `params`, `layers`, `last_layer`, `dtype`, `weight_decay` and
`_weight_names` in its constructor and says what its input is (`_inputs`), how many classes it
has (`output_size`) and how it is rebuilt (`config`, `from_config`).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import ClassVar, Protocol

import numpy as np

from digitlab.display import Displayed
from digitlab.errors import ConfigError, DataError, ModelFileError
from digitlab.nn.functional import softmax
from digitlab.nn.layers import Layers, SoftmaxWithLoss
from digitlab.nn.summary import summary_text


def checked_dtype(dtype) -> np.dtype:
    """dtype as a numpy dtype, float32 or float64, else a ConfigError."""
    try:
        checked = np.dtype(dtype)
    except TypeError:
        checked = None
    if checked not in (np.float32, np.float64):
        raise ConfigError(f"dtype={dtype!r} must be float32 or float64 (e.g. 'float32').")
    return checked


def check_seed_and_rng(seed, rng) -> None:
    """A ConfigError unless seed is None or a whole number >= 0 and rng None or a Generator."""
    if seed is not None and (
        isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0
    ):
        raise ConfigError(f"seed={seed!r} must be a whole number from 0 up, or None, e.g. 0.")
    if rng is not None and not isinstance(rng, np.random.Generator):
        raise ConfigError(f"rng={rng!r} must be a numpy Generator, e.g. np.random.default_rng(0).")


class ModelFiles(Protocol):
    """What `save_params` and `load_params` need of the model file format: digitlab.modelfile,
    which rebuilds networks from this package and so sits above it."""

    def save(self, network: Network, path: str | os.PathLike) -> Path: ...

    def load(self, path: str | os.PathLike) -> Network: ...


class Network(Displayed):
    """Base class of MLP and ConvNet (see the module's docstring)."""

    #: the model file format, installed where the layers meet (digitlab/__init__.py)
    model_files: ClassVar[ModelFiles]

    params: dict[str, np.ndarray]
    layers: Layers
    last_layer: SoftmaxWithLoss
    dtype: np.dtype
    weight_decay: float
    _weight_names: tuple[str, ...]
    #: samples per forward pass in `predict`, eval-mode `loss` and (by default) `accuracy`
    eval_batch_size = 10_000

    @property
    def input_size(self) -> int:
        """Numbers per sample (784 for a 28x28 image)."""
        raise NotImplementedError

    @property
    def output_size(self) -> int:
        """Number of classes."""
        raise NotImplementedError

    @property
    def lastLayer(self) -> SoftmaxWithLoss:
        """The book's name of `last_layer`."""
        return self.last_layer

    def activation_sizes(self) -> list[int]:
        """Numbers one sample makes on its way through the layers (for the memory a batch
        needs: `check_batch_memory`)."""
        raise NotImplementedError

    def multiply_adds(self, batch_size: int) -> int:
        """Multiply-adds of the matrix products in the forward pass of a batch of `batch_size`
        samples (backward's are about twice as many): the work of a training step, which
        decides whether BLAS threads pay (`digitlab.train.threads`)."""
        raise NotImplementedError

    def config(self) -> dict:
        raise NotImplementedError

    def summary(self) -> str:
        """Each layer with the shape of its output for one sample and its parameter count,
        and the total (what Keras's model.summary() prints)."""
        return summary_text(self)

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.summary())

    @classmethod
    def from_config(cls, config: dict) -> Network:
        raise NotImplementedError

    def as_input(self, x) -> np.ndarray:
        """x in the layout the first layer takes ((N, 784) rows for an MLP, (N, 1, 28, 28)
        images for a conv net), or a DataError that says what it is instead."""
        raise NotImplementedError

    # -- the book's API ---------------------------------------------------------------------

    def scores(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """The last layer's output (logits), (N, output_size)."""
        x = self.as_input(x)
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def _targets(self, x: np.ndarray, t) -> np.ndarray:
        """t as (N,) class indices in [0, C) or (N, C) one-hot/probability rows, checked
        against x's N; a DataError names what is wrong (a label 10 of 10 classes, a float
        label 2.5, 4 labels for 5 samples) instead of a wrong number or numpy's IndexError."""
        t = np.asarray(t)
        n, classes = len(x), self.output_size
        if t.ndim == 2 and t.shape == (n, 1) and classes > 1:
            t = t[:, 0]  # a column of class indices (the book's gradient_check passes one)
        if t.ndim == 2 and t.shape == (n, classes) and t.dtype.kind in "fiub":
            if not np.all(np.isfinite(t)):
                raise DataError("t holds NaN or infinity; targets must be finite.")
            return t
        if t.ndim != 1 or len(t) != n or t.dtype.kind not in "fiu":
            raise DataError(
                f"t has shape {t.shape} and dtype {t.dtype} for {n} samples: give {n} class "
                f"indices, shape ({n},), or one-hot rows, shape ({n}, {classes})."
            )
        if t.dtype.kind == "f":
            if not np.all(np.isfinite(t)) or np.any(t != np.round(t)):
                raise DataError(
                    "t holds labels that are not whole numbers (e.g. "
                    f"{t[~np.isfinite(t) | (t != np.round(t))][0]}); class indices are "
                    "integers: t.astype(int) if they are whole numbers stored as floats."
                )
            t = t.astype(np.int64)
        if n and (t.min() < 0 or t.max() >= classes):
            bad = int(t[(t < 0) | (t >= classes)][0])
            raise DataError(
                f"t holds the label {bad}, outside the {classes} classes 0-{classes - 1} of this "
                "network; check the labels (1-based? another data set?)."
            )
        return t

    def activations(self, x: np.ndarray) -> dict[str, np.ndarray]:
        """Each activation layer's output in eval mode, by the layer's book name ("Relu1": (N,
        FN, OH, OW) after a convolution, (N, H) after an affine layer), for x as predict takes
        it: what the report and the draw page show of the inside."""
        x = self.as_input(x)
        outputs = {}
        for name, layer in self.layers.items():
            x = layer.forward(x, train=False)
            if layer.elementwise is not None:
                outputs[name] = x
        return outputs

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities (eval mode). x: (N, input_size) -> (N, output_size), rows sum
        to 1. Computed eval_batch_size samples at a time: a conv net's activations for 10,000
        images at once would take gigabytes."""
        size = self.eval_batch_size
        if len(x) <= size:
            return softmax(self.scores(x))
        return np.concatenate(
            [softmax(self.scores(x[i : i + size])) for i in range(0, len(x), size)]
        )

    def loss(self, x: np.ndarray, t: np.ndarray, train: bool = False) -> float:
        """Mean cross-entropy over the batch, plus the weight decay term if any.

        train=False (default): evaluation mode, as predict. train=True: the loss that
        `gradient` differentiates (batch statistics, dropout masks); inside `frozen()` it is a
        fixed function of the parameters, ready for finite differences.
        """
        t = self._targets(x, t)
        size = max(len(x), 1) if train else self.eval_batch_size  # in eval mode, as predict
        loss = 0.0
        for i in range(0, len(x), size):
            chunk = self.last_layer.forward(self.scores(x[i : i + size], train), t[i : i + size])
            loss += chunk * (min(size, len(x) - i) / len(x))
        return loss + self._weight_penalty() if self.weight_decay else loss

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int | None = None) -> float:
        """Fraction of samples whose most probable class is the label (t: indices or one-hot),
        computed `batch_size` samples at a time (None: eval_batch_size)."""
        batch_size = batch_size or self.eval_batch_size
        t = self._targets(x, t)
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        correct = 0
        for start in range(0, x.shape[0], batch_size):
            stop = start + batch_size
            correct += int(np.sum(self.scores(x[start:stop]).argmax(axis=1) == labels[start:stop]))
        return correct / x.shape[0]

    def loss_and_gradient(
        self, x: np.ndarray, t: np.ndarray
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Backpropagation in training mode: the mean loss (with weight decay) and its gradient
        for every entry of `params`."""
        loss = self.last_layer.forward(self.scores(x, train=True), self._targets(x, t))
        dout = self.last_layer.backward()
        for i in range(len(self.layers) - 1, -1, -1):
            dout = self.layers[i].backward(dout, input_grad=i > 0)
        grads: dict[str, np.ndarray] = {}
        for layer in self.layers:
            grads.update(layer.grads)
        if self.weight_decay:
            loss += self._weight_penalty()
            for name in self._weight_names:
                # a new array: the Affine layer's own gradient stays that of the data term
                grads[name] = grads[name] + self.weight_decay * self.params[name]
        return loss, grads

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagation: d loss / d param for every entry of `params` (same keys)."""
        return self.loss_and_gradient(x, t)[1]

    def score_gradients(self, x: np.ndarray) -> np.ndarray:
        """The gradient of every class's score (logit) with respect to the input, in
        evaluation mode, by backpropagation: which pixels, made brighter, would raise (positive)
        or lower (negative) each class's score — a saliency map (Simonyan et al., 2013).

        x: one sample as predict takes it ((1, 784) for an MLP; (1, 784) or (1, 1, 28, 28) for
        a conv net). Returns (output_size, *the sample's shape in as_input's layout), e.g.
        (10, 784) or (10, 1, 28, 28). All classes come from one backward pass over a batch of
        copies of x, one row of the identity as each copy's upstream gradient. The layers'
        cached values and parameter gradients are overwritten, as by any backward pass.
        """
        x = self.as_input(x)
        if len(x) != 1:
            raise DataError(
                f"score_gradients takes one sample; x of shape {x.shape} holds {len(x)}."
            )
        classes = self.output_size
        scores = self.scores(np.repeat(x, classes, axis=0), train=False)
        dout = np.eye(classes, dtype=scores.dtype)
        for i in range(len(self.layers) - 1, -1, -1):
            dout = self.layers[i].backward(dout, input_grad=True)
        return dout.reshape(classes, *x.shape[1:])

    # -- modes and state --------------------------------------------------------------------

    @contextmanager
    def frozen(self) -> Iterator[Network]:
        """Inside, training-mode passes are repeatable and change nothing: every Dropout layer
        reuses its last mask, and BatchNorm's running statistics stay as they are. On exit the
        dropout generators are where they were, so a check leaves a training run unchanged.

        with net.frozen():
            grads = net.gradient(x, t)  # draws the masks
            loss = net.loss(x, t, train=True)  # the same masks
        """
        with ExitStack() as stack:
            for layer in self.layers:
                stack.enter_context(layer.frozen())
            yield self

    def state(self) -> dict[str, np.ndarray]:
        """Copies of the arrays besides `params` that predictions depend on: BatchNorm's
        `running_mean1`, `running_var1`, ... ((hidden_size,) each); {} without BatchNorm.
        A model file needs them, as much as the weights."""
        return {name: a.copy() for layer in self.layers for name, a in layer.state.items()}

    def load_state(self, state: dict[str, np.ndarray]) -> None:
        """Set the arrays that `state()` returns (the same names and shapes), in place."""
        own = {name: layer.state for layer in self.layers for name in layer.state}
        if set(state) != set(own):
            raise ConfigError(
                f"cannot load a state of {sorted(state)} into {self!r}, whose state is "
                f"{sorted(own)}; pass the state() of a network with the same architecture."
            )
        for name, value in state.items():  # all checked before any is changed
            if np.shape(value) != own[name][name].shape:
                raise ConfigError(
                    f"cannot load state {name!r} of shape {np.shape(value)} into {self!r}, "
                    f"which needs {own[name][name].shape}; pass the state() of a network with "
                    "the same sizes."
                )
        for name, value in state.items():
            own[name][name][...] = value

    def astype(self, dtype: type | np.dtype | str) -> Network:
        """A copy of this network with parameters and state of another dtype (e.g. float64 to
        check)."""
        copy = type(self).from_config({**self.config(), "dtype": np.dtype(dtype).name})
        for name, param in self.params.items():
            copy.params[name][...] = param
        copy.load_state(self.state())
        return copy

    # -- the book's save_params / load_params, in digitlab's model format ---------------------

    def save_params(self, file_name: str | os.PathLike = "params.npz") -> None:
        """Write the parameters (and state) to `file_name` as a digitlab model file: arrays
        and JSON metadata in a zip, never a pickle, whatever the name's suffix (the book's
        "params.pkl" works, and holds no pickle)."""
        self.model_files.save(self, file_name)

    def load_params(self, file_name: str | os.PathLike = "params.npz") -> None:
        """Set the parameters (and state) to those saved in `file_name` by `save_params`, in
        place (the arrays of `params` are replaced, as the book's load_params does). A file
        of another architecture is a ModelFileError that names both."""
        saved = self.model_files.load(file_name)
        if saved.config() | {"seed": None} != self.config() | {"seed": None}:
            raise ModelFileError(
                f"{file_name} holds {saved!r}, not the architecture of {self!r}; build the "
                "network it was saved from, or use digitlab.load(path) to get it back."
            )
        for name in self.params:
            self.params[name] = saved.params[name]
        self.load_state(saved.state())

    def _weight_penalty(self) -> float:
        """0.5 * lambda * sum of W^2 over the weight matrices."""
        total = sum(
            float(np.vdot(self.params[name], self.params[name])) for name in self._weight_names
        )
        return 0.5 * self.weight_decay * total

"""Fully connected classifiers: `MLP` of any depth, and the book's `TwoLayerNet`.

The parameters are named as in the book (`W1`, `b1`, `W2`, `b2`, ..., and `gamma1`, `beta1`,
... for BatchNorm as in its MultiLayerNetExtend); what every network shares is in
`digitlab.nn.base`.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence

import numpy as np

from digitlab._validate import number
from digitlab.errors import ConfigError, DataError
from digitlab.nn.base import Network, check_seed_and_rng, checked_dtype
from digitlab.nn.finite_differences import finite_differences
from digitlab.nn.init import init_std, normal_weights
from digitlab.nn.layers import ACTIVATIONS, Affine, BatchNorm, Dropout, Layers, SoftmaxWithLoss

#: the constructor keywords that `config()` records and `network_from_config` passes back
OPTIONS = (
    "activation",
    "weight_init_std",
    "use_batchnorm",
    "dropout",
    "weight_decay",
    "seed",
    "dtype",
)


class MLP(Network):
    """A multi-layer perceptron: (Affine → [BatchNorm] → activation → [Dropout]) for each hidden
    layer, then Affine and softmax with cross-entropy (the book's MultiLayerNetExtend).

    x: (N, input_size) float, pixels in [0, 1]; t: (N,) int labels or (N, output_size) one-hot.

    Args:
        input_size: features per sample (784 for 28x28 images).
        hidden_sizes: units in each hidden layer, e.g. [100] or [256, 128]; [] is softmax
            regression.
        output_size: number of classes.
        activation: "relu", "sigmoid", "tanh" or "leaky_relu" (negative slope 0.01).
        weight_init_std: a fixed std (the book uses 0.01), or "he", "xavier", "auto" (He for
            ReLU and leaky ReLU, Xavier for sigmoid and tanh).
        use_batchnorm: normalize each hidden layer's pre-activations (learnable gamma, beta).
        dropout: probability of dropping each hidden unit in training (inverted dropout);
            0 adds no Dropout layers.
        weight_decay: L2 strength lambda: the loss gets 0.5 * lambda * sum(W^2) over the weight
            matrices (not biases, gamma or beta) and each W's gradient lambda * W, as in the
            book's MultiLayerNet.
        seed: seed of the generator for the initial weights and the dropout masks; ignored
            when `rng` is given.
        rng: a numpy Generator to draw the initial weights (and dropout generators) from.
        dtype: float64 (exact gradient checks) or float32 (faster training); every array of
            the forward and backward pass keeps it for inputs of the same dtype.

    Train and eval mode: `loss_and_gradient` / `gradient` run in training mode (batch
    statistics, dropout masks); `predict`, `accuracy` and `loss` in evaluation mode (running
    statistics, no dropout) unless `loss(..., train=True)`. For the same seed the initial
    weights do not depend on use_batchnorm, dropout or weight_decay.
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        output_size: int,
        *,
        activation: str = "relu",
        weight_init_std: float | str = "auto",
        use_batchnorm: bool = False,
        dropout: float = 0.0,
        weight_decay: float = 0.0,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        dtype: type | np.dtype | str = np.float64,
    ) -> None:
        self.sizes = _layer_sizes(input_size, hidden_sizes, output_size)
        if not isinstance(activation, str) or activation not in ACTIVATIONS:
            raise ConfigError(
                f"activation={activation!r} is not known; choose one of {sorted(ACTIVATIONS)}."
            )
        if not isinstance(use_batchnorm, (bool, np.bool_)):
            raise ConfigError(f"use_batchnorm={use_batchnorm!r} must be True or False.")
        self.dtype = checked_dtype(dtype)
        check_memory(self.sizes, self.dtype)
        check_seed_and_rng(seed, rng)
        self.activation = activation
        self.use_batchnorm = bool(use_batchnorm)
        self.dropout = number("dropout", dropout, low=0, high=1, high_open=True, example="0.2")
        self.weight_decay = number("weight_decay", weight_decay, low=0, example="1e-4")
        self.seed = None if seed is None or rng is not None else int(seed)
        #: what is known of how the network was trained (filled in by digitlab.load)
        self.metadata: dict = {}
        rng = rng if rng is not None else np.random.default_rng(seed)

        # All weights first, then anything else random (the dropout generators), so the same
        # seed gives the same initial weights with or without dropout.
        self.params: dict[str, np.ndarray] = {}
        n_affine = len(self.sizes) - 1
        for i in range(1, n_affine + 1):
            fan_in, fan_out = self.sizes[i - 1], self.sizes[i]
            std = init_std(weight_init_std, fan_in, activation)
            self.params[f"W{i}"] = normal_weights(fan_in, fan_out, std, rng, self.dtype)
            self.params[f"b{i}"] = np.zeros(fan_out, dtype=self.dtype)
        # valid now: init_std accepted it
        self.weight_init_std = (
            weight_init_std if isinstance(weight_init_std, str) else float(weight_init_std)
        )
        self._weight_names = tuple(f"W{i}" for i in range(1, n_affine + 1))

        self.layers = Layers()
        for i in range(1, n_affine + 1):
            self.layers.append(Affine(self.params, f"W{i}", f"b{i}"))
            if i == n_affine:
                break
            if self.use_batchnorm:
                # gamma = 1, beta = 0: the layer starts as a pure normalization
                self.params[f"gamma{i}"] = np.ones(self.sizes[i], dtype=self.dtype)
                self.params[f"beta{i}"] = np.zeros(self.sizes[i], dtype=self.dtype)
                names = (f"gamma{i}", f"beta{i}", f"running_mean{i}", f"running_var{i}")
                self.layers.append(BatchNorm(self.params, *names))
            self.layers.append(ACTIVATIONS[activation]())
            if self.dropout > 0:
                generator = np.random.default_rng(rng.integers(2**63))
                self.layers.append(Dropout(self.dropout, generator))
        self.last_layer = SoftmaxWithLoss()

    # -- the book's API ---------------------------------------------------------------------

    @property
    def input_size(self) -> int:
        return self.sizes[0]

    @property
    def output_size(self) -> int:
        return self.sizes[-1]

    def activation_sizes(self) -> list[int]:
        """Numbers one sample makes in each layer (for the memory a batch needs)."""
        return list(self.sizes)

    def multiply_adds(self, batch_size: int) -> int:
        """Multiply-adds of each layer's (batch_size, D_in) @ (D_in, D_out) product, summed."""
        pairs = zip(self.sizes[:-1], self.sizes[1:], strict=True)
        return sum(batch_size * d_in * d_out for d_in, d_out in pairs)

    def as_input(self, x) -> np.ndarray:
        """x as an (N, input_size) array, or a DataError that says what it is instead."""
        x = np.asarray(x)
        width = self.sizes[0]
        if x.ndim != 2 or x.shape[1] != width or x.dtype.kind not in "fiub":
            raise DataError(
                f"x has shape {x.shape} and dtype {x.dtype}, where ({'N'}, {width}) numbers "
                f"belong: one row of {width} pixels per sample; reshape it with "
                f"x.reshape(len(x), {width})."
            )
        return x

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Central differences of the training-mode loss, as the book computes them
        (h = 1e-4), for every parameter. For a chain of Affine layers and activations they
        come from cached values instead of a forward pass per parameter, so 784-100-10 takes
        well under a second (see digitlab.nn.finite_differences); with BatchNorm or Dropout,
        from the book's loop. To compare with `gradient` under Dropout, call both inside
        `frozen()`."""
        return finite_differences(self, x, t)

    @classmethod
    def from_config(cls, config: dict) -> MLP:
        """The network `config()` describes (weights drawn afresh). Settings missing from an
        older config take their defaults (no BatchNorm, dropout or weight decay)."""
        options = {key: config[key] for key in OPTIONS if key in config}
        sizes = config["sizes"]
        if config.get("type") == "TwoLayerNet":
            input_size, hidden_size, output_size = sizes
            return TwoLayerNet(input_size, hidden_size, output_size, **options)
        return MLP(sizes[0], sizes[1:-1], sizes[-1], **options)

    # -- description ------------------------------------------------------------------------

    def config(self) -> dict:
        """Every constructor setting (weights aside), as plain JSON data; `network_from_config`
        builds the same network from it (with the same initial weights where seeded)."""
        return {
            "type": type(self).__name__,
            "sizes": self.sizes,
            "activation": self.activation,
            "weight_init_std": self.weight_init_std,
            "use_batchnorm": self.use_batchnorm,
            "dropout": self.dropout,
            "weight_decay": self.weight_decay,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }

    def __repr__(self) -> str:
        parts = ["→".join(str(s) for s in self.sizes), self.activation]
        if self.use_batchnorm:
            parts.append("batchnorm")
        if self.dropout:
            parts.append(f"dropout {self.dropout:g}")
        if self.weight_decay:
            parts.append(f"weight decay {self.weight_decay:g}")
        parts.append(self.dtype.name)
        return f"{type(self).__name__}({', '.join(parts)})"


class TwoLayerNet(MLP):
    """The book's two-layer network: Affine → activation → Affine → softmax.

    Same constructor as *Deep Learning from Scratch* (`weight_init_std=0.01`, ReLU as in its
    chapter 5); the keywords of `MLP` choose the activation, BatchNorm, dropout, weight decay,
    seed and dtype.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float | str = 0.01,
        **kwargs,
    ) -> None:
        super().__init__(
            input_size, [hidden_size], output_size, weight_init_std=weight_init_std, **kwargs
        )


#: copies of the weights training holds: the weights, their gradients, an optimizer's two moments
TRAINING_COPIES = 4


def physical_memory() -> int:
    """Bytes of RAM of this machine (0 where the system does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return 0


def check_memory(sizes: Sequence[int], dtype: np.dtype) -> None:
    """Refuse, with the estimate, layer sizes whose training would need more memory than the
    machine has (784-3,000,000-10 in float64: 19 GB), before anything is allocated."""
    parameters = sum(a * b + b for a, b in itertools.pairwise(sizes))
    check_parameter_memory(parameters, f"layer sizes {'-'.join(map(str, sizes))}", dtype)


def check_parameter_memory(parameters: int, what: str, dtype: np.dtype) -> None:
    """Refuse, with the estimate, `parameters` weights (of the network `what` describes) whose
    training would need more memory than the machine has."""
    needed = parameters * np.dtype(dtype).itemsize * TRAINING_COPIES
    available = physical_memory()
    if available and needed > available:
        raise ConfigError(
            f"{what} make {parameters:,} weights: training needs about {needed / 1e9:.1f} GB "
            f"in {np.dtype(dtype).name} (weights, gradients and optimizer state), and this "
            f"machine has {available / 1e9:.1f} GB; use smaller layers."
        )


#: arrays of a batch's width kept per layer: the input batch, pre-activations, activations, and
#: the gradients flowing back through them
BATCH_COPIES = 4


def check_batch_memory(sizes: Sequence[int], rows: int, dtype) -> None:
    """Refuse, with the estimate, a batch of `rows` samples whose forward and backward passes
    through layers `sizes` would need more memory than the machine has."""
    needed = rows * sum(sizes) * np.dtype(dtype).itemsize * BATCH_COPIES
    available = physical_memory()
    if available and needed > available:
        raise ConfigError(
            f"a batch of {rows:,} samples through layers {'-'.join(map(str, sizes))} needs about "
            f"{needed / 1e9:.1f} GB for its activations and gradients, and this machine has "
            f"{available / 1e9:.1f} GB; use a smaller --batch-size."
        )


def _layer_sizes(input_size: int, hidden_sizes: Sequence[int], output_size: int) -> list[int]:
    if isinstance(hidden_sizes, (str, bytes)) or not hasattr(hidden_sizes, "__iter__"):
        raise ConfigError(
            f"hidden_sizes={hidden_sizes!r} must be a list of layer sizes, e.g. [100] or "
            "[256, 128]."
        )
    sizes = [input_size, *hidden_sizes, output_size]
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
        raise ConfigError(f"layer sizes must be positive integers, got {sizes}.")
    return [int(s) for s in sizes]

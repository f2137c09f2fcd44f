"""Convolutional networks: `ConvNet` from a list of layers, and the book's `SimpleConvNet`
(chapter 7) and `DeepConvNet` (chapter 8) with its names and defaults.

A design is a list of layers, each a dict (plain JSON, so it goes into a config or model file):

    {"type": "conv", "filters": 30, "size": 5, "stride": 1, "pad": 0}
    {"type": "pool", "size": 2, "stride": 2, "pad": 0, "mode": "max"}   # or "average"
    {"type": "relu"}        # or "sigmoid", "tanh", "leaky_relu"
    {"type": "batchnorm"}   # per channel after a convolution, per unit after an affine layer
    {"type": "dropout", "p": 0.5}
    {"type": "affine", "units": 100}   # the last layer: one unit per class

Weights are numbered in order over convolution and affine layers (W1, b1, W2, ...), as in the
book; layers are named by kind (Conv1, Relu1, Pool1, Affine1, Relu2, Affine2: `layers["Conv1"]`).
Inputs are (N, C, H, W); (N, C*H*W) rows (what `load_mnist` gives by default) are reshaped.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from digitlab._validate import number
from digitlab.errors import ConfigError, DataError
from digitlab.nn.base import Network, check_seed_and_rng, checked_dtype
from digitlab.nn.conv import Convolution, Pooling, output_size
from digitlab.nn.finite_differences import finite_differences
from digitlab.nn.init import init_std
from digitlab.nn.layers import ACTIVATIONS, Affine, BatchNorm, Dropout, Layers, SoftmaxWithLoss
from digitlab.nn.network import check_parameter_memory
from digitlab.nn.numerical import DEFAULT_H

#: the keys each kind of layer takes, with their defaults (None: required)
LAYER_KEYS: dict[str, dict[str, object]] = {
    "conv": {"filters": None, "size": None, "stride": 1, "pad": 0},
    "pool": {"size": 2, "stride": 2, "pad": 0, "mode": "max"},
    "affine": {"units": None},
    "batchnorm": {},
    "dropout": {"p": 0.5},
    **{name: {} for name in ACTIVATIONS},
}


class ConvNet(Network):
    """A network of convolution, pooling, activation, BatchNorm, Dropout and affine layers,
    ending in softmax with cross-entropy (see the module's docstring for `layers`).

    Args:
        input_dim: (channels, height, width) of each input, (1, 28, 28) for MNIST.
        layers: the design, a list of layer dicts; the last is affine, one unit per class.
        weight_init_std: a fixed std (the book's SimpleConvNet: 0.01), or "he", "xavier",
            "auto" (He before ReLU, Xavier before sigmoid and tanh).
        weight_decay: L2 strength lambda on the weights (not biases), as in `MLP`.
        seed, rng: where the initial weights and dropout masks come from.
        dtype: float64 (exact gradient checks) or float32 (faster training).
    """

    eval_batch_size = 100  # the book's accuracy(x, t, batch_size=100)
    #: a book network's constructor arguments after input_dim (its config's keys)
    BOOK_ARGUMENTS: tuple[str, ...] = ()
    #: their values, for `config` (None for a ConvNet of a given design)
    book_arguments: dict | None = None

    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        layers: Sequence[dict] = (),
        *,
        weight_init_std: float | str = "auto",
        weight_decay: float = 0.0,
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        dtype: type | np.dtype | str = np.float64,
    ) -> None:
        self.input_dim = _input_dim(input_dim)
        self.design = [_layer_spec(i, spec) for i, spec in enumerate(layers)]
        kinds = [spec["type"] for spec in self.design]
        if "affine" not in kinds or any(k != "dropout" for k in kinds[_last_affine(kinds) + 1 :]):
            raise ConfigError(
                "a ConvNet ends with an affine layer, one unit per class (then only dropout), "
                'e.g. {"type": "affine", "units": 10}.'
            )
        self._setup(weight_init_std, weight_decay, seed, rng, dtype)
        shapes = self._shapes()
        parameters = sum(int(np.prod(shape)) for shape in _weight_shapes(self.design, shapes))
        check_parameter_memory(parameters, f"the layers of {type(self).__name__}", self.dtype)
        rng = rng if rng is not None else np.random.default_rng(seed)
        self.params: dict[str, np.ndarray] = {}
        self._build_weights(shapes, rng)
        self._build_layers(shapes, rng)
        self.last_layer = SoftmaxWithLoss()

    # -- construction ----------------------------------------------------------------------

    def _setup(self, weight_init_std, weight_decay, seed, rng, dtype) -> None:
        self.dtype = checked_dtype(dtype)
        check_seed_and_rng(seed, rng)
        init_std(weight_init_std, 1, "relu")  # refuses a bad scale before any work
        self.weight_init_std = (
            weight_init_std if isinstance(weight_init_std, str) else float(weight_init_std)
        )
        self.weight_decay = number("weight_decay", weight_decay, low=0, example="1e-4")
        self.seed = None if seed is None or rng is not None else int(seed)
        self.metadata: dict = {}

    def _shapes(self) -> list[tuple[int, ...]]:
        """The shape of one sample entering each layer, and leaving the last: (C, H, W) or
        (D,)."""
        shape: tuple[int, ...] = self.input_dim
        shapes = [shape]
        for spec in self.design:
            kind = spec["type"]
            if kind in ("conv", "pool"):
                if len(shape) != 3:
                    raise ConfigError(
                        f"layer {len(shapes)} ({kind}) comes after an affine layer; "
                        "convolution and pooling take images, so put them first."
                    )
                c, h, w = shape
                size, stride, pad = spec["size"], spec["stride"], spec["pad"]
                channels = spec["filters"] if kind == "conv" else c
                shape = (
                    channels,
                    output_size(h, size, stride, pad),
                    output_size(w, size, stride, pad),
                )
            elif kind == "affine":
                shape = (spec["units"],)
            shapes.append(shape)
        return shapes

    def _build_weights(self, shapes, rng: np.random.Generator) -> None:
        weighted = [spec for spec in self.design if spec["type"] in ("conv", "affine")]
        for k, (spec, shape) in enumerate(
            zip(weighted, _weight_shapes(self.design, shapes), strict=True), start=1
        ):
            conv = spec["type"] == "conv"
            fan_in = int(np.prod(shape[1:])) if conv else shape[0]
            std = init_std(self.weight_init_std, fan_in, self._activation_after(spec))
            self.params[f"W{k}"] = (std * rng.standard_normal(shape)).astype(self.dtype)
            self.params[f"b{k}"] = np.zeros(shape[0] if conv else shape[1], dtype=self.dtype)
        self._weight_names = tuple(f"W{k}" for k in range(1, len(weighted) + 1))

    def _build_layers(self, shapes, rng: np.random.Generator) -> None:
        self.layers = Layers()
        weighted = batchnorms = 0
        for spec, shape in zip(self.design, shapes, strict=False):
            kind = spec["type"]
            if kind in ("conv", "affine"):
                weighted += 1
                names = {"weight": f"W{weighted}", "bias": f"b{weighted}"}
                if kind == "conv":
                    self.layers.append(
                        Convolution(
                            stride=spec["stride"], pad=spec["pad"], params=self.params, **names
                        )
                    )
                else:
                    self.layers.append(Affine(self.params, names["weight"], names["bias"]))
            elif kind == "pool":
                size = spec["size"]
                self.layers.append(Pooling(size, size, spec["stride"], spec["pad"], spec["mode"]))
            elif kind == "batchnorm":
                batchnorms += 1
                j = batchnorms
                features = shape[0]
                self.params[f"gamma{j}"] = np.ones(features, dtype=self.dtype)
                self.params[f"beta{j}"] = np.zeros(features, dtype=self.dtype)
                self.layers.append(
                    BatchNorm(
                        self.params, f"gamma{j}", f"beta{j}", f"running_mean{j}", f"running_var{j}"
                    )
                )
            elif kind == "dropout":
                generator = np.random.default_rng(rng.integers(2**63))
                self.layers.append(Dropout(spec["p"], generator))
            else:
                self.layers.append(ACTIVATIONS[kind]())

    def _activation_after(self, spec: dict) -> str:
        """The activation that follows `spec` (for the "auto" scale), "relu" if none does."""
        start = self.design.index(spec)
        for later in self.design[start + 1 :]:
            if later["type"] in ACTIVATIONS:
                return later["type"]
            if later["type"] in ("conv", "affine"):
                break
        return "relu"

    # -- what a Network says of itself -----------------------------------------------------

    @property
    def input_size(self) -> int:
        return int(np.prod(self.input_dim))

    @property
    def output_size(self) -> int:
        kinds = [spec["type"] for spec in self.design]
        return int(self.design[_last_affine(kinds)]["units"])

    def activation_sizes(self) -> list[int]:
        """Numbers one sample makes in each layer's output, and in each convolution's im2col
        rows: what a batch's forward and backward passes hold per sample."""
        shapes = self._shapes()
        sizes = [int(np.prod(shape)) for shape in shapes]
        for spec, shape, after in zip(self.design, shapes, shapes[1:], strict=False):
            if spec["type"] == "conv":
                sizes.append(shape[0] * spec["size"] ** 2 * after[1] * after[2])
        return sizes

    def multiply_adds(self, batch_size: int) -> int:
        """Multiply-adds of the products: per sample, each convolution's (FN, C*FH*FW) @
        (C*FH*FW, OH*OW) and each affine layer's (D_in, D_out), times the batch."""
        shapes = self._shapes()
        total = 0
        for spec, shape, after in zip(self.design, shapes, shapes[1:], strict=False):
            if spec["type"] == "conv":
                total += int(np.prod(after)) * shape[0] * spec["size"] ** 2
            elif spec["type"] == "affine":
                total += int(np.prod(shape)) * spec["units"]
        return batch_size * total

    def as_input(self, x) -> np.ndarray:
        """x as (N, C, H, W): rows of C*H*W numbers are reshaped, a channels-last batch and
        any other shape are a DataError that says how to fix it."""
        x = np.asarray(x)
        c, h, w = self.input_dim
        if x.dtype.kind not in "fiub":
            raise DataError(f"x has dtype {x.dtype}, where numbers (pixels) belong.")
        if x.ndim == 4 and x.shape[1:] == (c, h, w):
            return x
        if x.ndim == 2 and x.shape[1] == c * h * w:
            return x.reshape(len(x), c, h, w)
        if x.ndim == 3 and c == 1 and x.shape[1:] == (h, w):
            return x[:, None]
        if x.ndim == 4 and x.shape[1:] == (h, w, c):
            raise DataError(
                f"x has shape {x.shape}: channels last (N, H, W, C), where this network takes "
                f"channels first (N, {c}, {h}, {w}); use x.transpose(0, 3, 1, 2)."
            )
        raise DataError(
            f"x has shape {x.shape}, where images (N, {c}, {h}, {w}) belong (or rows of "
            f"{c * h * w}); reshape it with x.reshape(len(x), {c}, {h}, {w})."
        )

    def numerical_gradient(
        self, x: np.ndarray, t: np.ndarray, h: float = DEFAULT_H
    ) -> dict[str, np.ndarray]:
        """Central differences of the training-mode loss for every parameter, as the book
        computes them (step h): the fully connected layers' from cached values (see
        digitlab.nn.finite_differences), the others one coordinate at a time, each from the input of
        its own layer. To compare with `gradient` under Dropout, call both inside `frozen()`."""

        return finite_differences(self, x, t, h)

    def config(self) -> dict:
        """The constructor's arguments as JSON: the design's layers for a ConvNet, the book's
        arguments (`book_arguments`) for its SimpleConvNet and DeepConvNet."""
        design = self.book_arguments or {"layers": [dict(spec) for spec in self.design]}
        return {
            "type": type(self).__name__,
            "input_dim": list(self.input_dim),
            **design,
            "weight_init_std": self.weight_init_std,
            "weight_decay": self.weight_decay,
            "seed": self.seed,
            "dtype": self.dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict) -> ConvNet:
        keywords = ("weight_init_std", "weight_decay", "seed", "dtype")
        arguments = ("layers",) if cls is ConvNet else cls.BOOK_ARGUMENTS
        # By name, and only those present: a file written before an argument existed (such as
        # SimpleConvNet's dropout) gets its default.
        return cls(
            config["input_dim"],
            **{key: config[key] for key in arguments + keywords if key in config},
        )

    def __repr__(self) -> str:
        c, h, w = self.input_dim
        return (
            f"{type(self).__name__}({c}x{h}x{w} → {' → '.join(self.layers.keys())}, "
            f"{self.dtype.name})"
        )


class SimpleConvNet(ConvNet):
    """The book's chapter 7 network: Conv → ReLU → Pool → Affine → ReLU → Affine → softmax.

    Same constructor as the book's; conv_param: filter_num, filter_size, pad, stride.
    `dropout` (not the book's; default 0, none) puts a Dropout layer after the hidden ReLU.
    Keywords: weight_decay, seed, rng, dtype as in ConvNet.
    """

    BOOK_ARGUMENTS = ("conv_param", "hidden_size", "output_size", "dropout")

    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        conv_param: dict | None = None,
        hidden_size: int = 100,
        output_size: int = 10,
        weight_init_std: float | str = 0.01,
        dropout: float = 0.0,
        **kwargs,
    ) -> None:
        conv = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1, **(conv_param or {})}
        self.dropout = dropout
        self.book_arguments = {
            "conv_param": conv,
            "hidden_size": hidden_size,
            "output_size": output_size,
            "dropout": dropout,
        }
        design = [
            {
                "type": "conv",
                "filters": conv["filter_num"],
                "size": conv["filter_size"],
                "stride": conv["stride"],
                "pad": conv["pad"],
            },
            {"type": "relu"},
            {"type": "pool", "size": 2, "stride": 2},
            {"type": "affine", "units": hidden_size},
            {"type": "relu"},
            *([{"type": "dropout", "p": dropout}] if dropout else []),
            {"type": "affine", "units": output_size},
        ]
        super().__init__(input_dim, design, weight_init_std=weight_init_std, **kwargs)


class DeepConvNet(ConvNet):
    """The book's chapter 8 network: three blocks of
    Conv → ReLU → Conv → ReLU → Pool (3x3 filters, padding 1; 16, 32, 64 filters, the fourth
    convolution padded 2), then Affine → ReLU → Dropout → Affine → Dropout → softmax, He's
    initial weights."""

    BOOK_ARGUMENTS = ("hidden_size", "output_size", "dropout")

    def __init__(
        self,
        input_dim: Sequence[int] = (1, 28, 28),
        hidden_size: int = 50,
        output_size: int = 10,
        dropout: float = 0.5,
        **kwargs,
    ) -> None:
        self.dropout = dropout
        self.book_arguments = {
            "hidden_size": hidden_size,
            "output_size": output_size,
            "dropout": dropout,
        }
        design: list[dict] = []
        for filters, pads in ((16, (1, 1)), (32, (1, 2)), (64, (1, 1))):
            for pad in pads:
                design += [
                    {"type": "conv", "filters": filters, "size": 3, "stride": 1, "pad": pad},
                    {"type": "relu"},
                ]
            design.append({"type": "pool", "size": 2, "stride": 2})
        design += [
            {"type": "affine", "units": hidden_size},
            {"type": "relu"},
            {"type": "dropout", "p": dropout},
            {"type": "affine", "units": output_size},
            {"type": "dropout", "p": dropout},
        ]
        kwargs.setdefault("weight_init_std", "he")
        super().__init__(input_dim, design, **kwargs)


def _input_dim(input_dim) -> tuple[int, int, int]:
    dims = tuple(input_dim) if isinstance(input_dim, (list, tuple)) else ()
    if len(dims) != 3 or any(
        isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in dims
    ):
        raise ConfigError(
            f"input_dim={input_dim!r} must be (channels, height, width), e.g. (1, 28, 28)."
        )
    return tuple(int(d) for d in dims)


def _layer_spec(index: int, spec) -> dict:
    """A layer dict with its defaults filled in, checked; a ConfigError names the layer."""
    kind = spec.get("type") if isinstance(spec, dict) else None
    if kind not in LAYER_KEYS:
        raise ConfigError(
            f"layer {index + 1}: {spec!r} is not a layer; give a dict whose type is one of "
            f"{', '.join(LAYER_KEYS)}, e.g. {{'type': 'conv', 'filters': 30, 'size': 5}}."
        )
    known = LAYER_KEYS[kind]
    unknown = set(spec) - set(known) - {"type"}
    if unknown:
        raise ConfigError(
            f"layer {index + 1} ({kind}) has no setting {sorted(unknown)[0]!r}; it takes "
            f"{', '.join(known) or 'none'}."
        )
    out = {"type": kind}
    for key, default in known.items():
        value = spec.get(key, default)
        if value is None:
            raise ConfigError(f"layer {index + 1} ({kind}) needs {key!r}.")
        if key == "mode":
            if value not in ("max", "average"):
                raise ConfigError(f"layer {index + 1} (pool): mode is 'max' or 'average'.")
        elif key == "p":
            if not isinstance(value, (int, float)) or isinstance(value, bool) or not 0 <= value < 1:
                raise ConfigError(f"layer {index + 1} (dropout): p={value!r} must be in [0, 1).")
            value = float(value)
        else:
            least = 0 if key == "pad" else 1
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
                raise ConfigError(
                    f"layer {index + 1} ({kind}): {key}={value!r} must be a whole number >= "
                    f"{least}."
                )
            value = int(value)
        out[key] = value
    return out


def _last_affine(kinds: list[str]) -> int:
    return len(kinds) - 1 - kinds[::-1].index("affine")


def _weight_shapes(design: list[dict], shapes: list[tuple[int, ...]]) -> list[tuple[int, ...]]:
    """The shape of each weight array (W1, W2, ...) of the design, given each layer's input."""
    out = []
    for spec, shape in zip(design, shapes, strict=False):
        if spec["type"] == "conv":
            out.append((spec["filters"], shape[0], spec["size"], spec["size"]))
        elif spec["type"] == "affine":
            out.append((int(np.prod(shape)), spec["units"]))
    return out

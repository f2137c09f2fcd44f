"""Fully connected classifiers: `MLP` of any depth, and the book's `TwoLayerNet`.

The parameters live in one dict, `params`, named as in the book (`W1`, `b1`, `W2`, `b2`, ...);
`gradient` returns a dict with the same keys, so any optimizer's `update(params, grads)` and any
gradient check works on any network.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from digitlab.errors import ConfigError
from digitlab.nn.functional import softmax
from digitlab.nn.init import init_std, normal_weights
from digitlab.nn.layers import ACTIVATIONS, Affine, Layer, SoftmaxWithLoss


class MLP:
    """A multi-layer perceptron: (Affine → activation) × len(hidden_sizes), Affine, softmax.

    x: (N, input_size) float, pixels in [0, 1]; t: (N,) int labels or (N, output_size) one-hot.

    Args:
        input_size: features per sample (784 for 28x28 images).
        hidden_sizes: units in each hidden layer, e.g. [100] or [256, 128].
        output_size: number of classes.
        activation: "relu" or "sigmoid".
        weight_init_std: a fixed std (the book uses 0.01), or "he", "xavier", "auto" (He for
            ReLU, Xavier for sigmoid).
        seed: seed of the generator for the initial weights; ignored when `rng` is given.
        rng: a numpy Generator to draw the initial weights from.
        dtype: float64 (exact gradient checks) or float32 (faster training).
    """

    def __init__(
        self,
        input_size: int,
        hidden_sizes: Sequence[int],
        output_size: int,
        *,
        activation: str = "relu",
        weight_init_std: float | str = "auto",
        seed: int | None = None,
        rng: np.random.Generator | None = None,
        dtype: type | np.dtype | str = np.float64,
    ) -> None:
        sizes = [input_size, *hidden_sizes, output_size]
        if any(not isinstance(s, (int, np.integer)) or s < 1 for s in sizes):
            raise ConfigError(f"layer sizes must be positive integers, got {sizes}.")
        if activation not in ACTIVATIONS:
            raise ConfigError(
                f"activation={activation!r} is not known; choose one of {sorted(ACTIVATIONS)}."
            )
        self.dtype = np.dtype(dtype)
        if self.dtype not in (np.float32, np.float64):
            raise ConfigError(f"dtype={dtype!r} must be float32 or float64.")
        self.sizes = [int(s) for s in sizes]
        self.activation = activation
        self.weight_init_std = weight_init_std
        #: what is known of how the network was trained (filled in by digitlab.load)
        self.metadata: dict = {}
        rng = rng if rng is not None else np.random.default_rng(seed)

        self.params: dict[str, np.ndarray] = {}
        self.layers: list[Layer] = []
        n_affine = len(sizes) - 1
        for i in range(1, n_affine + 1):
            fan_in, fan_out = self.sizes[i - 1], self.sizes[i]
            std = init_std(weight_init_std, fan_in, activation)
            self.params[f"W{i}"] = normal_weights(fan_in, fan_out, std, rng, self.dtype)
            self.params[f"b{i}"] = np.zeros(fan_out, dtype=self.dtype)
            self.layers.append(Affine(self.params, f"W{i}", f"b{i}"))
            if i < n_affine:
                self.layers.append(ACTIVATIONS[activation]())
        self.last_layer = SoftmaxWithLoss()

    # -- the book's API ---------------------------------------------------------------------

    def scores(self, x: np.ndarray, train: bool = False) -> np.ndarray:
        """The last Affine layer's output (logits). x: (N, input_size) -> (N, output_size)."""
        for layer in self.layers:
            x = layer.forward(x, train)
        return x

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities. x: (N, input_size) -> (N, output_size), rows sum to 1."""
        return softmax(self.scores(x))

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        """Mean cross-entropy over the batch."""
        return self.last_layer.forward(self.scores(x), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray, batch_size: int = 10_000) -> float:
        """Fraction of samples whose most probable class is the label (t: indices or one-hot)."""
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        correct = 0
        for start in range(0, x.shape[0], batch_size):
            stop = start + batch_size
            correct += int(np.sum(self.scores(x[start:stop]).argmax(axis=1) == labels[start:stop]))
        return correct / x.shape[0]

    def loss_and_gradient(
        self, x: np.ndarray, t: np.ndarray
    ) -> tuple[float, dict[str, np.ndarray]]:
        """Backpropagation: the mean loss and its gradient for every entry of `params`."""
        loss = self.last_layer.forward(self.scores(x, train=True), t)
        dout = self.last_layer.backward()
        for i in range(len(self.layers) - 1, -1, -1):
            dout = self.layers[i].backward(dout, input_grad=i > 0)
        grads: dict[str, np.ndarray] = {}
        for layer in self.layers:
            grads.update(layer.grads)
        return loss, grads

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagation: d loss / d param for every entry of `params` (same keys)."""
        return self.loss_and_gradient(x, t)[1]

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Central differences of the loss, as the book computes them (h = 1e-4), for every
        parameter; from cached values instead of a forward pass per parameter, so 784-100-10
        takes well under a second (see digitlab.gradients.fast)."""
        from digitlab.gradients.fast import finite_differences

        return finite_differences(self, x, t)

    def astype(self, dtype: type | np.dtype | str) -> MLP:
        """A copy of this network with parameters of another dtype (e.g. float64 to check)."""
        copy = network_from_config({**self.config(), "dtype": np.dtype(dtype).name})
        for name, param in self.params.items():
            copy.params[name][...] = param
        return copy

    # -- description ------------------------------------------------------------------------

    def config(self) -> dict:
        """Everything needed to rebuild this architecture (weights aside), as plain JSON data."""
        return {
            "type": type(self).__name__,
            "sizes": self.sizes,
            "activation": self.activation,
            "weight_init_std": self.weight_init_std,
            "dtype": self.dtype.name,
        }

    def __repr__(self) -> str:
        arrows = "→".join(str(s) for s in self.sizes)
        return f"{type(self).__name__}({arrows}, {self.activation}, {self.dtype.name})"


class TwoLayerNet(MLP):
    """The book's two-layer network: Affine → activation → Affine → softmax.

    Same constructor as *Deep Learning from Scratch* (`weight_init_std=0.01`, ReLU as in its
    chapter 5); the keywords of `MLP` choose the activation, seed and dtype.
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


def network_from_config(config: dict) -> MLP:
    """Rebuild the network class named in `config` (weights are drawn afresh)."""
    if config.get("type") == "TwoLayerNet":
        in_size, hidden, out_size = config["sizes"]
        return TwoLayerNet(
            in_size,
            hidden,
            out_size,
            weight_init_std=config["weight_init_std"],
            activation=config["activation"],
            dtype=config["dtype"],
        )
    sizes = config["sizes"]
    return MLP(
        sizes[0],
        sizes[1:-1],
        sizes[-1],
        activation=config["activation"],
        weight_init_std=config["weight_init_std"],
        dtype=config["dtype"],
    )

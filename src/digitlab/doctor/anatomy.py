"""Reading a learner's network: its layers from the book's parameter names, its activation.

Where `params` follows the book's naming (`W1`, `b1`, `W2`, `b2`, ...; also `w1`, `weights1`,
`W_1`, and no biases at all), the weights form a chain of affine maps whose shapes fit the input
and each other, either as the book writes them (a = x @ W + b, W: (fan_in, fan_out)) or as
column-vector code does (a = W @ x + b, W: (fan_out, fan_in)). Which activation sits between
them, and which function turns the last layer's scores into `predict`'s output, is found by
recomputing `predict(x)` with each candidate and keeping the one that reproduces it; where
`predict` is missing, the network's `activation` attribute or its source code is read.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from digitlab.nn.functional import sigmoid, softmax

WEIGHT_NAME = re.compile(r"^(?:w|weights?)_?(\d+)$", re.IGNORECASE)
BIAS_NAME = re.compile(r"^(?:b|bias|biases)_?(\d+)$", re.IGNORECASE)

#: hidden activations tried, in order of preference where two reproduce predict equally (ReLU and
#: identity agree when every pre-activation is positive)
HIDDEN = ("sigmoid", "tanh", "relu", "identity")
#: output functions tried, in order of preference where two reproduce predict equally: scores
#: near zero are their own tanh (logits, so identity first), and a tanh saturated at 1 is also a
#: saturated sigmoid (tanh before sigmoid)
OUTPUTS = ("softmax", "softmax-batch", "softmax-columns", "identity", "tanh", "sigmoid")
#: relative agreement with predict's output for a candidate to count as reproducing it (float32
#: networks agree with a float64 recomputation to about 1e-6)
MATCH_TOLERANCE = 1e-4


def _softmax_all(s: np.ndarray) -> np.ndarray:
    """The learners' softmax over the whole batch at once: one distribution for all of it."""
    return softmax(s.reshape(-1)).reshape(s.shape)


def _softmax_columns(s: np.ndarray) -> np.ndarray:
    """The learners' softmax down each column (over the samples, axis 0)."""
    return softmax(s.T).T


#: the hidden activation functions, by name, as the doctor recomputes a learner's forward pass
#: (the formulas are nn.functional's; this maps the names the doctor guesses to them)
HIDDEN_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    # the learner's np.maximum(a, 0), which keeps -inf at 0 where nn's x * (x > 0) gives NaN
    "relu": lambda a: np.maximum(a, 0.0),
    "identity": lambda a: a,
}
OUTPUT_FUNCTIONS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "softmax": softmax,
    "softmax-batch": _softmax_all,
    "softmax-columns": _softmax_columns,
    "sigmoid": sigmoid,
    "tanh": np.tanh,
    "identity": lambda s: s,
}


@dataclass(frozen=True)
class AffineLayer:
    """One affine map of the chain: its weight and bias names, and how the weight is laid out."""

    index: int
    weight: str
    bias: str | None
    fan_in: int
    fan_out: int
    #: True for column-vector code: W is (fan_out, fan_in) and a = W @ x + b
    transposed: bool

    def apply(self, params, h: np.ndarray) -> np.ndarray:
        W = np.asarray(params[self.weight], dtype=np.float64)
        h = np.asarray(h, dtype=np.float64)
        a = h @ (W.T if self.transposed else W)
        if self.bias is not None:
            a = a + np.asarray(params[self.bias], dtype=np.float64).reshape(-1)
        return a


@dataclass(frozen=True)
class Anatomy:
    """The chain of affine layers, the hidden activation and the output function.

    hidden / output: a name from HIDDEN / OUTPUTS, or None where it could not be told.
    """

    layers: tuple[AffineLayer, ...]
    hidden: str | None
    output: str | None

    @property
    def hidden_layers(self) -> tuple[AffineLayer, ...]:
        return self.layers[:-1]

    def preactivations(
        self,
        params,
        x: np.ndarray,
        hidden: str | None = None,
        first: np.ndarray | None = None,
    ) -> list[np.ndarray]:
        """a_i = h_{i-1} W_i + b_i for every layer (the last one is the scores), in float64.

        first: the first layer's pre-activation where already computed (it does not depend on
        the activation).
        """
        act = HIDDEN_FUNCTIONS[hidden or self.hidden or "identity"]
        with np.errstate(all="ignore"):
            if first is None:
                first = self.layers[0].apply(params, np.asarray(x).reshape(len(x), -1))
            out = [first]
            for layer in self.layers[1:]:
                out.append(layer.apply(params, act(out[-1])))
        return out


def chain(params, input_size: int) -> tuple[AffineLayer, ...] | None:
    """The affine layers named as in the book whose shapes fit `input_size` and each other."""
    weights, biases = {}, {}
    for name, value in params.items():
        if not isinstance(name, str):
            continue
        if (m := WEIGHT_NAME.match(name)) and np.ndim(value) == 2:
            weights[int(m.group(1))] = name
        elif m := BIAS_NAME.match(name):
            biases[int(m.group(1))] = name
    if not weights or sorted(weights) != list(range(1, len(weights) + 1)):
        return None
    first = np.shape(params[weights[1]])
    if first[0] == input_size:
        transposed = False
    elif first[1] == input_size:
        transposed = True
    else:
        return None
    layers = []
    size = input_size
    for i in range(1, len(weights) + 1):
        shape = np.shape(params[weights[i]])
        fan_in, fan_out = (shape[1], shape[0]) if transposed else shape
        if fan_in != size:
            return None
        bias = biases.get(i)
        if bias is not None and np.size(params[bias]) != fan_out:
            bias = None
        layers.append(AffineLayer(i, weights[i], bias, int(fan_in), int(fan_out), transposed))
        size = fan_out
    return tuple(layers)


def identify(
    network, layers: tuple[AffineLayer, ...], x: np.ndarray, y: np.ndarray | None
) -> Anatomy:
    """Which hidden activation and output function reproduce predict's output y (N, C)."""
    if y is not None and y.ndim == 2 and y.shape == (len(x), layers[-1].fan_out):
        scale = max(1.0, float(np.max(np.abs(y)))) if np.all(np.isfinite(y)) else None
        if scale is not None:
            anatomy = Anatomy(layers, None, None)
            with np.errstate(all="ignore"):
                first = layers[0].apply(network.params, np.asarray(x).reshape(len(x), -1))
            for hidden in HIDDEN if len(layers) > 1 else ("identity",):
                scores = anatomy.preactivations(network.params, x, hidden, first)[-1]
                with np.errstate(all="ignore"):
                    for output in OUTPUTS:
                        guess = OUTPUT_FUNCTIONS[output](scores)
                        if np.max(np.abs(guess - y)) <= MATCH_TOLERANCE * scale:
                            return Anatomy(layers, hidden, output)
    hidden = _hidden_from_attribute(network) or _hidden_from_source(network)
    return Anatomy(layers, hidden, None)


def _hidden_from_attribute(network) -> str | None:
    name = getattr(network, "activation", None)
    if isinstance(name, str) and name.lower() in HIDDEN_FUNCTIONS:
        return name.lower()
    return None


def _hidden_from_source(network) -> str | None:
    """The one activation the class's source names (None if none or several)."""
    try:
        source = inspect.getsource(type(network)).lower()
    except (OSError, TypeError):
        return None
    found = {
        name
        for name, pattern in (
            ("sigmoid", r"sigmoid"),
            ("tanh", r"tanh"),
            ("relu", r"relu|maximum\(\s*0"),
        )
        if re.search(pattern, source)
    }
    return found.pop() if len(found) == 1 else None


def recommended_std(activation: str | None, fan_in: int) -> tuple[float, str]:
    """The initial std the activation calls for, and its name: He for ReLU, else Xavier."""
    if activation == "relu":
        return float(np.sqrt(2.0 / fan_in)), "He"
    return float(np.sqrt(1.0 / fan_in)), "Xavier"

"""The learner's network, recovered from the arrays their program holds.

A program rarely hands its network over as an object: the forward pass is a function of arrays, a
few inline lines, a method under another name. What it always leaves behind are arrays: the
input, the weights, and the activations it computed from them. `identify` finds the chain
input → (weight, bias, activation) → ... → output that reproduces the activations the program
computed, trying every candidate weight, bias, layout (x @ W as the book writes it, or W @ x as
column-vector code does) and activation; `Recovered` is that network as an object the doctor's
checks can examine (`params`, `predict`, `loss`, `gradient`), in the book's row layout, with
the learner's own softmax (per row, or over the batch) and the loss their backprop
differentiates: cross-entropy for a softmax output, squared error otherwise.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from digitlab.doctor.anatomy import HIDDEN, HIDDEN_FUNCTIONS, OUTPUT_FUNCTIONS, OUTPUTS
from digitlab.doctor.program.scope import key_name
from digitlab.gradients.keys import undecorated
from digitlab.nn.functional import log_softmax

#: layers of a chain searched at most
MAX_LAYERS = 4
#: the widest layer a weight may have: wider arrays are data (10,000 images), not weights
MAX_WIDTH = 4096
#: seconds one search may take (a program holding hundreds of arrays is searched in part)
SEARCH_SECONDS = 1.0
#: samples compared when matching activations
MATCH_ROWS = 256
#: relative tolerance of a match (the learner's float32 against our float64)
MATCH_TOLERANCE = 1e-4
SOFTMAX_OUTPUTS = ("softmax", "softmax-batch", "softmax-columns")
#: how much a chain's last activation says it is the network's output (others: 2)
_OUTPUT_BONUS = {"identity": 0, "relu": 1}


@dataclass(frozen=True)
class Layer:
    """One affine map: the learner's names of its weight and bias, and its layout."""

    weight: str
    bias: str | None
    #: column-vector code: W is (fan_out, fan_in) and a = W @ x + b
    transposed: bool
    activation: str
    #: the learner's name of the array this layer's output matched ("" if not observed)
    observed: str = ""


@dataclass
class Model:
    """A recovered network: its layers, where its input came from, the arrays it was found in."""

    layers: tuple[Layer, ...]
    input: str
    #: the arrays at the moment of recovery, by the learner's names (weights, input, outputs)
    arrays: dict[str, np.ndarray] = field(repr=False)

    @property
    def transposed(self) -> bool:
        return self.layers[0].transposed

    @property
    def one_sample(self) -> bool:
        """Whether the input the network was recovered from is one sample (a per-sample loop)."""
        return len(self.samples(self.arrays[self.input])) == 1

    @property
    def output(self) -> str:
        return self.layers[-1].activation

    @property
    def hidden(self) -> str:
        return self.layers[0].activation if len(self.layers) > 1 else "identity"

    @property
    def weight_names(self) -> list[str]:
        names = []
        for layer in self.layers:
            names.append(layer.weight)
            if layer.bias is not None:
                names.append(layer.bias)
        return names

    @property
    def classes(self) -> int:
        W = self.arrays[self.layers[-1].weight]
        return int(W.shape[0] if self.transposed else W.shape[1])

    @property
    def features(self) -> int:
        W = self.arrays[self.layers[0].weight]
        return int(W.shape[1] if self.transposed else W.shape[0])

    @property
    def loss_kind(self) -> str:
        return "cross-entropy" if self.output in SOFTMAX_OUTPUTS else "squared-error"

    @property
    def loss_kinds(self) -> tuple[str, ...]:
        """The losses a learner may differentiate with this output."""
        if self.output in SOFTMAX_OUTPUTS:
            return ("cross-entropy",)
        if self.output == "sigmoid":
            return ("squared-error", "binary-cross-entropy")
        return ("squared-error",)

    def canonical(self) -> dict[str, str]:
        """{book name (W1, b1, ...): learner's name}."""
        names = {}
        for i, layer in enumerate(self.layers, 1):
            names[f"W{i}"] = layer.weight
            if layer.bias is not None:
                names[f"b{i}"] = layer.bias
        return names

    def to_rows(self, name: str, value: np.ndarray) -> np.ndarray:
        """A weight or bias of the learner's layout in the book's: W (fan_in, fan_out), b (H,)."""
        value = np.asarray(value, dtype=np.float64)
        if any(layer.bias == name for layer in self.layers):
            return value.reshape(-1)
        return value.T if self.transposed else value

    def samples(self, array: np.ndarray) -> np.ndarray:
        """Inputs or targets of the learner's layout as rows (one sample per row)."""
        array = np.asarray(array)
        return array.T if self.transposed and array.ndim == 2 else array


def identify(
    arrays: dict[str, np.ndarray],
    weight: np.ndarray | None = None,
    updated: set[int] | None = None,
    applied: set[int] | None = None,
) -> Model | None:
    """The chain that best reproduces the activations among `arrays`, or None.

    weight: an array the program is updating: the chain must contain it, and it is not the
    input (x @ W and W.T @ x.T are the same numbers, only an update tells which is the weight).
    updated: the ids of every array the program's update statements change: only those can
    be weights (an activation of the batch can have a weight's shape). applied: the ids of
    those seen changed in place of themselves (not reshaped): never the input.

    A chain counts only where its last layer's output is one of the arrays; among several, the
    one with most layers matched wins (then the first found). Matching compares
    the first MATCH_ROWS samples, so a search over a 60,000-image training set costs no more
    than over a batch.
    """
    # activations gone to inf/NaN can only be told by the learner's function that returned them
    # (looked for before one name per array is kept: the learner's `h` is also `tanh()`)
    broken = {
        n: a
        for n, a in arrays.items()
        if a.ndim == 2
        and a.dtype.kind == "f"
        and _named_activation(n)
        and not np.all(np.isfinite(a))
        and (updated is None or id(a) not in updated)
    }
    arrays = _columns(_distinct(arrays), updated)
    floats = {n: a for n, a in arrays.items() if a.dtype.kind == "f" and np.all(np.isfinite(a))}
    weights = {n: a for n, a in floats.items() if updated is None or id(a) in updated}
    matrices = {
        n: a
        for n, a in weights.items()
        if a.ndim == 2 and min(a.shape) >= 2 and max(a.shape) <= MAX_WIDTH
    }
    vectors = {n: a for n, a in weights.items() if a.ndim == 1 or (a.ndim == 2 and 1 in a.shape)}
    # what the program updates (weights, gradient sums) is not an activation it computed
    observed = {
        n: a for n, a in floats.items() if a.ndim == 2 and (updated is None or id(a) not in updated)
    }
    widths = {s for a in matrices.values() for s in a.shape}
    best: tuple[int, Model] | None = None
    deadline = time.perf_counter() + SEARCH_SECONDS
    # the learner's own variables first (x_batch), then what the tracer kept from functions:
    # the search is cut at SEARCH_SECONDS
    for input_name in sorted(arrays, key=lambda n: "#" in n or "(" in n):
        x = arrays[input_name]
        if time.perf_counter() > deadline:
            break
        if x.ndim != 2 or x.dtype.kind not in "fiub" or x is weight:
            continue
        if applied is not None and id(x) in applied:
            continue  # what the program updates is a weight, not its input
        if not _informative(x[:MATCH_ROWS]):
            continue  # a constant (sigmoid units of zero weights) is no input to recover from
        for transposed in (False, True):
            rows = x.T if transposed else x
            if rows.shape[1] not in widths:
                continue
            head = rows[:MATCH_ROWS].astype(np.float64)
            search = _Search(len(rows), transposed, matrices, vectors, observed, input_name, broken)
            search.deadline = deadline
            for chain, matched in search.extend(head, (), 0):
                # a chain whose output function was seen (the probabilities beside the scores)
                # says more than one that stops at the scores; a ReLU of positive scores is
                # the scores again, less likely the output than a squashing function beside it
                score = 2 * matched + _OUTPUT_BONUS.get(chain[-1].activation, 2)
                if time.perf_counter() > deadline:
                    return None if best is None else best[1]
                if (
                    chain[-1].observed
                    and (best is None or score > best[0])
                    and (weight is None or any(arrays[w] is weight for w in _names(chain)))
                ):
                    best = (score, Model(chain, input_name, dict(arrays)))
    return None if best is None else best[1]


def _distinct(arrays: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """One name per array object: the learner's own variable before a name the tracer made up
    (`f()['W1']#(784, 64)` for what a function returned)."""
    by_object: dict[int, str] = {}
    for name in sorted(arrays, key=lambda n: ("#" in n or "(" in n, len(n))):
        by_object.setdefault(id(arrays[name]), name)
    keep = set(by_object.values())
    return {n: a for n, a in arrays.items() if n in keep}


def _columns(arrays: dict[str, np.ndarray], updated: set[int] | None) -> dict[str, np.ndarray]:
    """A 1-D array the program computed (not one it updates: a bias) as a column: one sample
    of a per-sample loop, `np.dot(w1, x)` with x of shape (784,)."""
    return {
        n: a.reshape(-1, 1)
        if a.ndim == 1 and a.size > 2 and (updated is None or id(a) not in updated)
        else a
        for n, a in arrays.items()
    }


def _names(chain) -> list[str]:
    return [n for layer in chain for n in (layer.weight, layer.bias) if n is not None]


class _Search:
    """Chains of (weight, bias, activation) from one input, in one layout."""

    def __init__(
        self, samples, transposed, matrices, vectors, observed, input_name, broken
    ) -> None:
        self.samples = samples
        self.transposed = transposed
        # a weight before a gradient of the same shape (w2 before dw2, which may have been summed
        # into by an update statement too)
        order = sorted(matrices, key=lambda n: undecorated(key_name(n)) is not None)
        self.matrices = {n: (matrices[n].T if transposed else matrices[n]) for n in order}
        self.vectors = vectors
        self.observed = {
            n: (a.T if transposed else a)
            for n, a in observed.items()
            if (a.T if transposed else a).shape[0] == samples
        }
        self.broken = {
            n: _named_activation(n)
            for n, a in broken.items()
            if (a.T if transposed else a).shape[0] == samples
        }
        self.shapes = {n: (a.T if transposed else a).shape[1] for n, a in broken.items()}
        self.input = input_name
        self.deadline = float("inf")

    def extend(self, rows, chain, score):
        """Chains continuing from activations `rows` (the first samples, (k, d))."""
        if len(chain) >= MAX_LAYERS or time.perf_counter() > self.deadline:
            return
        used = {self.input} | set(_names(chain))
        seen = {layer.observed for layer in chain}
        for name, W in self.matrices.items():
            if time.perf_counter() > self.deadline:
                return
            if name in used or W.shape[0] != rows.shape[1]:
                continue
            fan_out = W.shape[1]
            shaped = {
                o: a
                for o, a in self.observed.items()
                if a.shape[1] == fan_out and o != name and o not in seen
            }
            with np.errstate(all="ignore"):
                scores = rows @ W.astype(np.float64)
            found_any = False
            for bias in _biases(self.vectors, fan_out, self.transposed, used | {name}):
                z = scores if bias is None else scores + self.vectors[bias].reshape(-1)
                for activation, observed_name in _activations(z, shaped):
                    found_any = True
                    layer = Layer(name, bias, self.transposed, activation, observed_name)
                    yield (*chain, layer), score + 1
                    if activation not in SOFTMAX_OUTPUTS:
                        with np.errstate(all="ignore"):
                            out = HIDDEN_FUNCTIONS[activation](z)
                        yield from self.extend(out, (*chain, layer), score + 1)
                if found_any:
                    break  # the first bias that explains an activation (a zero bias is a bias)
            if not found_any and not shaped:
                # nothing of this layer's shape was kept: try each hidden activation unobserved
                bias = next(_biases(self.vectors, fan_out, self.transposed, used | {name}))
                z = scores if bias is None else scores + self.vectors[bias].reshape(-1)
                for activation in HIDDEN:
                    with np.errstate(all="ignore"):
                        out = HIDDEN_FUNCTIONS[activation](z)
                    layer = Layer(name, bias, self.transposed, activation, "")
                    yield from self.extend(out, (*chain, layer), score)
            for observed, activation in self.broken.items():
                if self.shapes[observed] != fan_out or observed in seen:
                    continue
                bias = next(_biases(self.vectors, fan_out, self.transposed, used | {name}))
                z = scores if bias is None else scores + self.vectors[bias].reshape(-1)
                layer = Layer(name, bias, self.transposed, activation, observed)
                yield (*chain, layer), score + 1
                if activation not in SOFTMAX_OUTPUTS:
                    with np.errstate(all="ignore"):
                        out = HIDDEN_FUNCTIONS[activation](z)
                    yield from self.extend(out, (*chain, layer), score + 1)


#: the learner's function names of activations (`ReLU()`, `my_softmax()`), lowercased
_FUNCTION_NAMES = ("softmax", "sigmoid", "tanh", "relu")
#: parts of a name that make it a derivative, not the function (`dsigmoid`, `relu_prime`)
_DERIVATIVE = ("der", "prime", "grad", "back", "_d", "d_")


def _named_activation(name: str) -> str | None:
    """The activation a function returned an array of, by the function's name
    (`tanh()#(100, 64)` -> "tanh"), or None."""
    if "()" not in name:
        return None
    function = name.split("(")[0].split(".")[-1].lower()
    if any(part in function for part in _DERIVATIVE) or function.startswith("d"):
        return None
    return next((a for a in _FUNCTION_NAMES if a in function), None)


def _biases(vectors, size, transposed, used):
    """Bias candidates of the right size, then None (a bias explains as well as none)."""
    for name, b in vectors.items():
        if name in used or b.size != size:
            continue
        if b.ndim == 2 and b.shape != ((size, 1) if transposed else (1, size)):
            continue
        yield name
    yield None


def _activations(z, shaped):
    """(activation, observed name) for each activation of z (the first samples) that equals an
    observed array; softmaxes over the whole batch are matched up to their normalization.

    An array of one or two values (a tanh saturated at ±1, a sigmoid at 1) equals the output of
    almost any large weights: it counts only where z itself was kept too (the scores before
    the output function)."""
    if not shaped:
        return
    k = len(z)
    matches = []
    # identity last: the scores a softmax or sigmoid was applied to are often kept too
    for activation in (
        *(a for a in dict.fromkeys((*HIDDEN, *OUTPUTS)) if a != "identity"),
        "identity",
    ):
        with np.errstate(all="ignore"):
            if activation in ("softmax-batch", "softmax-columns"):
                guess = np.exp(z - z.max())
            else:
                guess = _function(activation)(z)
        found = [name for name, a in shaped.items() if _matches(activation, guess, a[:k])]
        if found:
            # the learner's own function of that name returned it: `tanh()` for a saturated a2
            named = [n for n in found if activation.split("-")[0] in n.split("(")[0].lower()]
            name = (named or found)[0]
            matches.append((activation, name, _informative(shaped[name][:k]), bool(named)))
    # scores near zero are their own tanh, positive scores their own ReLU: a function of the
    # very array the scores match is the scores
    scores = {m[1] for m in matches if m[0] == "identity"}
    matches = [m for m in matches if m[0] == "identity" or m[1] not in scores]
    # the scores kept beside the output: a flat output (dead units before it) is still told
    # by its function, where only one function gives it
    anchored = any(m[0] == "identity" for m in matches)
    # several functions matching the same flat array (zeros: a dead ReLU, or a sigmoid at 0) say
    # nothing about which one it is, unless the learner's function of that name returned it
    flat = [m for m in matches if not m[2] and m[0] != "identity"]
    if len(flat) > 1:
        flat = [m for m in flat if m[3]]
    for match in matches:
        activation, name, informative, _ = match
        if informative or (anchored and flat == [match]):
            yield activation, name


def _matches(activation: str, guess: np.ndarray, observed: np.ndarray) -> bool:
    if activation == "softmax-batch":
        return abs(float(observed.sum()) - 1) < 1e-3 and _proportional(guess, observed, axis=None)
    if activation == "softmax-columns":
        return bool(np.all(np.abs(observed.sum(axis=0) - 1) < 1e-3)) and _proportional(
            guess, observed, axis=0
        )
    return _close(guess, observed)


def _informative(values: np.ndarray) -> bool:
    """More than two distinct values: an array that can tell one computation from another."""
    return np.unique(np.round(np.asarray(values, dtype=np.float64), 9)).size > 2


def _proportional(guess: np.ndarray, target: np.ndarray, axis) -> bool:
    """target = guess * c, with one c (axis None) or one per column (axis 0)."""
    target = np.asarray(target, dtype=np.float64)
    if not np.all(np.isfinite(guess)) or np.any(guess <= 0):
        return False
    with np.errstate(all="ignore"):
        ratio = target / guess
    low, high = ratio.min(axis=axis), ratio.max(axis=axis)
    return bool(np.all(low > 0) and np.all(high - low <= MATCH_TOLERANCE * high))


def _function(name: str):
    return OUTPUT_FUNCTIONS.get(name) or HIDDEN_FUNCTIONS[name]


def _close(guess: np.ndarray, target: np.ndarray) -> bool:
    target = np.asarray(target, dtype=np.float64)
    if not np.all(np.isfinite(guess)):
        return False
    scale = max(1e-3, float(np.max(np.abs(target)))) if target.size else 1.0
    return bool(np.max(np.abs(guess - target)) <= MATCH_TOLERANCE * scale)


class Recovered:
    """The recovered network as the doctor's checks read one (params in the book's names and
    layout; x: (N, D) rows; t: (N,) labels or (N, C) one-hot)."""

    def __init__(
        self,
        model: Model,
        values: dict[str, np.ndarray] | None = None,
        loss_kind: str | None = None,
        output: str | None = None,
    ) -> None:
        self.model = model
        #: the output function (the recovered one, unless another is asked for)
        self.output = output or model.output
        #: "cross-entropy" (softmax output), "squared-error", or "binary-cross-entropy" (the
        #: loss whose gradient at a sigmoid output is y - t)
        self.loss_kind = loss_kind or model.loss_kind
        source = values if values is not None else model.arrays
        #: the last input and its float64 rows: the checks pass the same x (never changed in
        #: place) to every loss, and converting 2,000 rows of pixels anew each time was most
        #: of a gradient check's time
        self._rows: tuple[np.ndarray, np.ndarray] | None = None
        self.params = {
            book: model.to_rows(learner, source[learner])
            for book, learner in model.canonical().items()
        }

    def __repr__(self) -> str:
        sizes = [self.model.features] + [
            self.params[f"W{i}"].shape[1] for i in range(1, len(self.model.layers) + 1)
        ]
        return "-".join(map(str, sizes)) + f" ({self.model.hidden} → {self.output})"

    def forward(self, x: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Pre-activations and activations of every layer (the input first among activations)."""
        h = self._as_rows(x)
        pre, act = [], [h]
        with np.errstate(all="ignore"):
            for i, layer in enumerate(self.model.layers, 1):
                z = h @ self.params[f"W{i}"]
                if layer.bias is not None:
                    z = z + self.params[f"b{i}"]
                last = i == len(self.model.layers)
                h = _function(self.output if last else layer.activation)(z)
                pre.append(z)
                act.append(h)
        return pre, act

    def _as_rows(self, x: np.ndarray) -> np.ndarray:
        """x as (N, D) float64, converted once per input array."""
        if self._rows is None or self._rows[0] is not x:
            self._rows = (x, np.asarray(x, dtype=np.float64).reshape(len(x), -1))
        return self._rows[1]

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[1][-1]

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        pre, act = self.forward(x)
        target = self._one_hot(t, act[-1].shape)
        n = len(target)
        with np.errstate(all="ignore"):
            if self.loss_kind == "cross-entropy":
                log_p = _log_output(self.output, pre[-1])
                return float(-np.sum(np.where(target != 0, target * log_p, 0.0)) / n)
            if self.loss_kind == "binary-cross-entropy":
                z = pre[-1]  # log y = -softplus(-z), log(1 - y) = -softplus(z)
                return float(
                    np.sum(target * np.logaddexp(0, -z) + (1 - target) * np.logaddexp(0, z)) / n
                )
            return float(0.5 * np.sum((act[-1] - target) ** 2) / n)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Backpropagation of `loss` through the recovered layers."""
        pre, act = self.forward(x)
        target = self._one_hot(t, act[-1].shape)
        n = len(target)
        layers = self.model.layers
        with np.errstate(all="ignore"):
            if self.loss_kind == "cross-entropy":
                group = _group_sum(self.output, target)
                dz = (act[-1] * group - target) / n
            elif self.loss_kind == "binary-cross-entropy":
                dz = (act[-1] - target) / n
            else:
                dz = (act[-1] - target) / n * _derivative(layers[-1].activation, pre[-1], act[-1])
            grads = {}
            for i in range(len(layers), 0, -1):
                grads[f"W{i}"] = act[i - 1].T @ dz
                if layers[i - 1].bias is not None:
                    grads[f"b{i}"] = dz.sum(axis=0)
                if i > 1:
                    da = dz @ self.params[f"W{i}"].T
                    dz = da * _derivative(layers[i - 2].activation, pre[i - 2], act[i - 1])
        return grads

    @staticmethod
    def _one_hot(t: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
        t = np.asarray(t)
        if t.shape == shape:
            return t.astype(np.float64)
        labels = t.reshape(-1).astype(np.int64)
        target = np.zeros(shape)
        valid = (labels >= 0) & (labels < shape[1])
        target[np.flatnonzero(valid), labels[valid]] = 1.0
        return target


def _log_output(output: str, scores: np.ndarray) -> np.ndarray:
    if output == "softmax":
        return log_softmax(scores)
    axis = 0 if output == "softmax-columns" else None
    shifted = scores - scores.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _group_sum(output: str, target: np.ndarray) -> np.ndarray:
    """Σ t over each softmax's group (a row, a column, or everything), broadcast."""
    if output == "softmax":
        return target.sum(axis=1, keepdims=True)
    if output == "softmax-columns":
        return target.sum(axis=0, keepdims=True)
    return np.full_like(target, target.sum())


def _derivative(activation: str, z: np.ndarray, a: np.ndarray) -> np.ndarray:
    if activation == "sigmoid":
        return a * (1 - a)
    if activation == "tanh":
        return 1 - a * a
    if activation == "relu":
        return (z > 0).astype(np.float64)
    return np.ones_like(z)

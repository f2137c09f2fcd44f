"""Gradient check with a verdict: is this network's backpropagation right, and if not, where?

Backprop is compared with central differences, tensor by tensor, by CS231n's relative error
|a - n| / max(|a| + |n|, 1e-8). A digitlab network gets every partial derivative (the fast path
of digitlab.gradients.fast); any other object with `params`, `loss(x, t)` and `gradient(x, t)`,
as learners write them, gets a random sample of coordinates per tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from digitlab.gradients.fast import finite_differences, frozen, supports_fast_path, training_loss
from digitlab.gradients.numerical import sampled_numerical_gradient
from digitlab.nn.network import MLP

#: relative error below which a gradient is correct: CS231n's "usually okay", which also
#: allows for the 1e-7 that learners add inside log(y + 1e-7)
CORRECT_BELOW = 1e-4
#: relative error from which it is wrong; in between it is suspicious
WRONG_FROM = 1e-2
#: CS231n's floor of the denominator, so two tiny gradients do not make a large ratio
DENOMINATOR_FLOOR = 1e-8
#: step of the check: smaller than the book's 1e-4, so a ReLU kink is rarely stepped over
CHECK_H = 1e-6
#: step for networks checked one coordinate at a time, where each difference of two losses
#: loses about eps * |loss| / h to rounding
SAMPLED_H = 1e-5


@dataclass(frozen=True)
class TensorCheck:
    """The comparison for one parameter tensor.

    checked: how many coordinates were compared; max_relative_error and max_absolute_error over
    them (judged only where the absolute error exceeds `noise`, the rounding of the finite
    difference); worst_index: the coordinate of the largest relative error; problem: what is
    wrong beyond numbers (a missing or mis-shaped gradient), or "".
    """

    name: str
    shape: tuple[int, ...]
    checked: int
    max_relative_error: float
    max_absolute_error: float
    worst_index: tuple[int, ...] | None
    noise: float
    problem: str = ""

    @property
    def verdict(self) -> str:
        """ "correct", "suspicious" or "wrong" (thresholds CORRECT_BELOW and WRONG_FROM)."""
        if self.problem or not np.isfinite(self.max_relative_error):
            return "wrong"
        if self.max_relative_error < CORRECT_BELOW:
            return "correct"
        return "suspicious" if self.max_relative_error < WRONG_FROM else "wrong"


@dataclass(frozen=True)
class GradientCheck:
    """The result of `check`: one TensorCheck per parameter tensor, and how they were made."""

    network: str
    tensors: tuple[TensorCheck, ...]
    samples: int
    h: float
    sampled: bool

    @property
    def ok(self) -> bool:
        """True when every tensor's gradient is correct."""
        return all(tensor.verdict == "correct" for tensor in self.tensors)

    @property
    def wrong(self) -> list[str]:
        """Names of the tensors whose gradient is wrong."""
        return [tensor.name for tensor in self.tensors if tensor.verdict == "wrong"]

    @property
    def suspicious(self) -> list[str]:
        return [tensor.name for tensor in self.tensors if tensor.verdict == "suspicious"]

    def __getitem__(self, name: str) -> TensorCheck:
        for tensor in self.tensors:
            if tensor.name == name:
                return tensor
        raise KeyError(name)

    def table(self) -> str:
        """The report as a text table, with the thresholds and a one-line conclusion."""
        header = (
            "tensor",
            "shape",
            "checked",
            "max rel error",
            "max abs error",
            "worst index",
            "verdict",
        )
        rows = [header]
        for c in self.tensors:
            rows.append(
                (
                    c.name,
                    "x".join(map(str, c.shape)) or "scalar",
                    f"{c.checked:,}",
                    f"{c.max_relative_error:.1e}" if c.max_relative_error else "≤ noise",
                    f"{c.max_absolute_error:.1e}",
                    "-" if c.worst_index is None else str(list(c.worst_index)),
                    c.verdict + (f" ({c.problem})" if c.problem else ""),
                )
            )
        widths = [max(len(row[i]) for row in rows[:]) for i in range(len(header) - 1)]
        lines = [
            "  ".join(cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=True))
            + "  "
            + row[-1]
            for row in rows
        ]
        how = "sampled coordinates" if self.sampled else "every coordinate"
        lines.insert(
            0,
            f"gradient check of {self.network}: backprop vs central differences "
            f"(h={self.h:g}, {how}, {self.samples} samples, float64)",
        )
        noise = max((c.noise for c in self.tensors), default=0.0)
        lines.append(
            f"relative error |a-n|/max(|a|+|n|, {DENOMINATOR_FLOOR:g}) (CS231n): below "
            f"{CORRECT_BELOW:g} correct, below {WRONG_FROM:g} suspicious, otherwise wrong; "
            f"absolute differences up to {noise:.0e} (rounding and truncation of the difference "
            "quotient) are not judged."
        )
        lines.append(self.conclusion())
        return "\n".join(lines)

    def conclusion(self) -> str:
        if self.ok:
            return "verdict: backpropagation is correct."
        if self.wrong:
            return f"verdict: backpropagation is wrong for {', '.join(self.wrong)}."
        return f"verdict: suspicious for {', '.join(self.suspicious)}; check with fewer samples."

    def __str__(self) -> str:
        return self.table()


def check(
    network,
    x: np.ndarray,
    t: np.ndarray,
    *,
    coordinates: int | None = None,
    h: float | None = None,
    seed: int = 0,
) -> GradientCheck:
    """Compare `network.gradient(x, t)` with central differences of the loss it differentiates.

    x: (N, D) inputs; t: (N,) labels or (N, C) one-hot. `coordinates`: how many random
    coordinates per tensor to compare; None means every coordinate for a digitlab network of
    Affine layers and activations and 30 per tensor for any other (a digitlab network with
    BatchNorm or Dropout, or a learner's network with `params`, `loss(x, t)`,
    `gradient(x, t)`). A digitlab network is checked on its training-mode loss with its dropout
    masks fixed, and left as it was (running statistics, dropout generators); any other
    network's parameters are perturbed in place and always restored.
    """
    if isinstance(network, MLP) and network.dtype != np.float64:
        network = network.astype(np.float64)  # a float32 gradient would not tell right from wrong
    fast = coordinates is None and supports_fast_path(network)
    if h is None:
        h = CHECK_H if fast else SAMPLED_H
    rng = np.random.default_rng(seed)
    tensors = []
    # frozen: the same dropout masks for the gradient and every loss, no running-statistics
    # updates, and the network left as it was
    with frozen(network):
        analytic = network.gradient(x, t)
        loss_function = training_loss(network, x, t)
        loss = float(loss_function())
        numerical = finite_differences(network, x, t, h) if fast else None
        for name, param in network.params.items():
            shape = tuple(np.shape(param))
            if name not in analytic:
                tensors.append(_problem(name, shape, "gradient() returned no such key"))
                continue
            grad = np.asarray(analytic[name], dtype=np.float64)
            if grad.shape != shape:
                tensors.append(_problem(name, shape, f"gradient has shape {grad.shape}"))
                continue
            if fast:
                index = tuple(np.indices(shape).reshape(len(shape), -1))
                values = numerical[name].astype(np.float64).ravel()
            else:
                index, values = sampled_numerical_gradient(
                    lambda _: float(loss_function()), param, coordinates or 30, rng, h
                )
            noise = _noise(param, loss, h, fast)
            tensors.append(_compare(name, shape, grad[index], values, index, noise))
    return GradientCheck(_describe(network), tuple(tensors), int(np.shape(x)[0]), h, not fast)


def _describe(network) -> str:
    """The network's repr, or its class name where the repr is object's default."""
    if type(network).__repr__ is object.__repr__:
        return type(network).__name__
    return repr(network)


def _noise(param: np.ndarray, loss: float, h: float, fast: bool) -> float:
    """How far a correct gradient may differ from the difference quotient.

    Truncation: the central difference is off by about h^2 f'''(w) / 6. Rounding: f(w+h) - f(w-h)
    of two losses loses about eps * |loss| / h (float32 parameters: float32's eps); the fast
    path computes each sample's change of loss directly and loses almost nothing.
    """
    truncation = 100 * h * h  # generous: f''' of a cross-entropy reaches tens
    if fast:
        return truncation
    eps = np.finfo(np.result_type(param, np.float32)).eps
    return truncation + 8 * eps * max(1.0, abs(loss)) / h


def _problem(name: str, shape: tuple[int, ...], problem: str) -> TensorCheck:
    return TensorCheck(name, shape, 0, np.inf, np.inf, None, 0.0, problem)


def _compare(name, shape, analytic, numerical, index, noise) -> TensorCheck:
    abs_error = np.abs(analytic - numerical)
    rel_error = abs_error / np.maximum(np.abs(analytic) + np.abs(numerical), DENOMINATOR_FLOOR)
    judged = np.where(abs_error > noise, rel_error, 0.0)
    judged[~np.isfinite(abs_error)] = np.inf
    worst = int(np.argmax(judged)) if judged.size and judged.max() > 0 else None
    return TensorCheck(
        name=name,
        shape=shape,
        checked=int(judged.size),
        max_relative_error=float(judged.max()) if judged.size else 0.0,
        max_absolute_error=float(abs_error.max()) if judged.size else 0.0,
        worst_index=None if worst is None else tuple(int(i[worst]) for i in index),
        noise=float(noise),
    )

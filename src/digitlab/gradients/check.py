"""Gradient check with a verdict: is this network's backpropagation right, and if not, where?

Backprop is compared with central differences, tensor by tensor, by CS231n's relative error
|a - n| / max(|a| + |n|, 1e-8). A digitlab network gets every partial derivative (the fast
path of digitlab.nn.finite_differences); any other object with `params`, `loss(x, t)` and
`gradient(x, t)`, as learners write them, gets a random sample of coordinates per tensor. The
gradient dict may name its keys as the params do (`W1`) or as learners often do (`dW1`,
`grad_W1`, `W1_grad`): see digitlab.gradients.keys.

The result reads in English or Chinese: its words are marked with N_() and translated when the
table is made, in the language of the GradientCheck (digitlab.i18n).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from digitlab.display import Displayed
from digitlab.gradients.keys import align_gradients
from digitlab.i18n import N_, current_language, translate
from digitlab.nn.base import Network
from digitlab.nn.finite_differences import (
    finite_differences,
    frozen,
    supports_fast_path,
    training_loss,
)
from digitlab.nn.numerical import losses_at, sampled_losses

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
#: random coordinates compared per tensor where not every coordinate is
SAMPLED_COORDINATES = 30
#: a sampled coordinate sits at a kink of the loss (a ReLU or a max pooling switching within h)
#: where its one-sided differences (f(w+h) - f(w)) / h and (f(w) - f(w-h)) / h differ by more
#: than this fraction of their sizes: a smooth loss bends them apart by only h * f''. There the
#: central difference is no derivative at all, and backprop is right when it lies between them
KINK_JUMP = 1e-2

#: the words of a verdict, by the verdict's key (TensorCheck.verdict)
VERDICTS = {
    "correct": N_("correct"),
    "suspicious": N_("suspicious"),
    "wrong": N_("wrong"),
}
#: problems a tensor can have beyond numbers (TensorCheck.problem), with their arguments
NO_SUCH_KEY = N_("gradient() returned no such key")
NOT_A_DICT = N_("gradient() returned a {kind}, not a dict")
WRONG_SHAPE = N_("gradient has shape {shape}")
#: the table's column titles
COLUMNS = (
    N_("tensor"),
    N_("shape"),
    N_("checked"),
    N_("max rel error"),
    N_("max abs error"),
    N_("worst index"),
    N_("analytic"),
    N_("numerical"),
    N_("verdict"),
)


@dataclass(frozen=True)
class TensorCheck:
    """The comparison for one parameter tensor.

    checked: how many coordinates were compared; max_relative_error and max_absolute_error over
    them (judged only where the absolute error exceeds `noise`, the rounding of the finite
    difference); worst_index: the coordinate of the largest relative error (of the largest
    absolute error where none is judged), with the analytic (backprop) and numerical (central
    difference) values there, None where nothing was compared; problem: what is wrong beyond
    numbers (a missing or mis-shaped gradient: one of NO_SUCH_KEY, NOT_A_DICT, WRONG_SHAPE, in
    English, formatted with problem_args), or "".
    """

    name: str
    shape: tuple[int, ...]
    checked: int
    max_relative_error: float
    max_absolute_error: float
    worst_index: tuple[int, ...] | None
    noise: float
    worst_analytic: float | None = None
    worst_numerical: float | None = None
    problem: str = ""
    problem_args: Mapping[str, str] = field(default_factory=dict)
    kinks: int = 0

    @property
    def verdict(self) -> str:
        """ "correct", "suspicious" or "wrong" (thresholds CORRECT_BELOW and WRONG_FROM); the
        words to show are VERDICTS[verdict], translated."""
        if self.problem or not np.isfinite(self.max_relative_error):
            return "wrong"
        if self.max_relative_error < CORRECT_BELOW:
            return "correct"
        return "suspicious" if self.max_relative_error < WRONG_FROM else "wrong"

    def problem_text(self, lang: str | None = None) -> str:
        """The problem in `lang` (None: the current language), or ""."""
        if not self.problem:
            return ""
        return translate(self.problem, lang).format(**self.problem_args)


@dataclass(frozen=True)
class GradientCheck(Displayed):
    """The result of `check`: one TensorCheck per parameter tensor, and how they were made.

    lang: the language of `table()` and `conclusion()` ("en" or "zh").
    """

    network: str
    tensors: tuple[TensorCheck, ...]
    samples: int
    h: float
    sampled: bool
    lang: str = "en"

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

    def in_language(self, lang: str) -> GradientCheck:
        """The same result, rendered in `lang`."""
        return replace(self, lang=lang)

    def table(self) -> str:
        """The report as a text table, with the thresholds and a one-line conclusion.

        One row per tensor: its worst coordinate, with the analytic and the numerical value
        there side by side.
        """
        rows = self.rows()
        widths = [max(_display_width(row[i]) for row in rows) for i in range(len(COLUMNS) - 1)]
        lines = [
            "  ".join(_pad(cell, width) for cell, width in zip(row[:-1], widths, strict=True))
            + "  "
            + row[-1]
            for row in rows
        ]
        lines.insert(0, self.heading())
        noise = max((c.noise for c in self.tensors), default=0.0)
        lines.append(
            self._words(
                N_(
                    "relative error |a-n|/max(|a|+|n|, {floor:g}) of the analytic gradient a "
                    "(backprop) and the numerical n (CS231n): below {correct:g} correct, below "
                    "{wrong:g} suspicious, otherwise wrong; absolute differences up to "
                    "{noise:.0e} (rounding and truncation of the difference quotient) are not "
                    "judged."
                )
            ).format(floor=DENOMINATOR_FLOOR, correct=CORRECT_BELOW, wrong=WRONG_FROM, noise=noise)
        )
        kinks = sum(c.kinks for c in self.tensors)
        if kinks:
            lines.append(
                self._words(
                    N_(
                        "{kinks} coordinate(s) sat at a kink of the loss (a ReLU or a max "
                        "pooling switching within h): there the one-sided differences disagree, "
                        "and backprop was judged by the nearer of them."
                    )
                ).format(kinks=kinks)
            )
        lines.append(self.conclusion())
        return "\n".join(lines)

    def heading(self) -> str:
        """The table's first line: what was checked, and how."""
        how = N_("sampled coordinates") if self.sampled else N_("every coordinate")
        return self._words(
            N_(
                "gradient check of {network}: backprop vs central differences (h={h:g}, "
                "{how}, {samples} samples, float64)"
            )
        ).format(network=self.network, h=self.h, how=self._words(how), samples=self.samples)

    def rows(self) -> list[tuple[str, ...]]:
        """The table's cells: the column titles, then one row per tensor (as text)."""
        return [tuple(self._words(title) for title in COLUMNS)] + [
            self._row(tensor) for tensor in self.tensors
        ]

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.table())

    def _row(self, c: TensorCheck) -> tuple[str, ...]:
        verdict = self._words(VERDICTS[c.verdict])
        if c.problem:
            verdict = self._words(N_("{verdict} ({problem})")).format(
                verdict=verdict, problem=c.problem_text(self.lang)
            )
        relative, absolute = f"{c.max_relative_error:.1e}", f"{c.max_absolute_error:.1e}"
        if not c.checked:  # nothing compared: no errors to show
            relative = absolute = "-"
        elif not c.max_relative_error:
            relative = self._words(N_("≤ noise"))
        no_worst = c.worst_index is None
        return (
            str(c.name),
            "x".join(map(str, c.shape)) or self._words(N_("scalar")),
            f"{c.checked:,}",
            relative,
            absolute,
            "-" if no_worst else str(list(c.worst_index)),
            "-" if no_worst else f"{c.worst_analytic:.6g}",
            "-" if no_worst else f"{c.worst_numerical:.6g}",
            verdict,
        )

    def conclusion(self) -> str:
        if self.ok:
            return self._words(N_("verdict: backpropagation is correct."))
        if self.wrong:
            return self._words(N_("verdict: backpropagation is wrong for {names}.")).format(
                names=", ".join(map(str, self.wrong))
            )
        return self._words(N_("verdict: suspicious for {names}; check with fewer samples.")).format(
            names=", ".join(map(str, self.suspicious))
        )

    def _words(self, message: str) -> str:
        return translate(message, self.lang)

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
    lang: str | None = None,
) -> GradientCheck:
    """Compare `network.gradient(x, t)` with central differences of the loss it differentiates.

    x: (N, D) inputs; t: (N,) labels or (N, C) one-hot. `coordinates`: how many random
    coordinates per tensor to compare; None means every coordinate for a digitlab network of
    Affine layers and activations and SAMPLED_COORDINATES per tensor for any other (a digitlab
    network with BatchNorm or Dropout, or a learner's network with `params`, `loss(x, t)`,
    `gradient(x, t)`, whose keys may be `W1`, `dW1`, `grad_W1`, ...). A digitlab network is
    checked on its training-mode loss with its dropout masks fixed, and left as it was (running
    statistics, dropout generators); any other network's parameters are perturbed in place and
    always restored. lang: the language of the result's table (None: the current language).
    """
    if isinstance(network, Network) and network.dtype != np.float64:
        network = network.astype(np.float64)  # a float32 gradient would not tell right from wrong
    fast = coordinates is None and supports_fast_path(network)
    if h is None:
        h = CHECK_H if fast else SAMPLED_H
    rng = np.random.default_rng(seed)
    tensors = []
    # frozen: the same dropout masks for the gradient and every loss, no running-statistics
    # updates, and the network left as it was
    with frozen(network):
        returned = network.gradient(x, t)
        loss_function = training_loss(network, x, t)
        loss = float(loss_function())
        numerical = finite_differences(network, x, t, h) if fast else None
        is_dict = isinstance(returned, Mapping)
        analytic = align_gradients(network.params, returned) if is_dict else {}
        for name, param in network.params.items():
            shape = tuple(np.shape(param))
            if not is_dict:
                tensors.append(problem(name, shape, NOT_A_DICT, kind=type(returned).__name__))
                continue
            if name not in analytic:
                tensors.append(problem(name, shape, NO_SUCH_KEY))
                continue
            grad = np.asarray(analytic[name], dtype=np.float64)
            if grad.shape != shape:
                tensors.append(problem(name, shape, WRONG_SHAPE, shape=str(grad.shape)))
                continue
            noise = difference_noise(np.result_type(param), loss, h, fast)
            kinks = np.zeros(0, dtype=bool)
            if not shape and isinstance(param, np.ndarray):  # a 0-d array: through a view
                param, grad = param.reshape(1), grad.reshape(1)
            if fast:
                index = tuple(np.indices(shape).reshape(len(shape), -1))
                values = numerical[name].astype(np.float64).ravel()
            else:
                index, plus, minus = sampled_losses(
                    lambda _: float(loss_function()),
                    param,
                    coordinates or SAMPLED_COORDINATES,
                    rng,
                    h,
                )
                values, kinks = across_kinks(grad[index], loss, plus, minus, h, noise)
                if np.result_type(param) == np.float64:
                    noise = refine(
                        loss_function, param, grad[index], index, values, kinks, h, loss, noise
                    )
            tensors.append(
                compare(name, shape, grad[index], values, index, noise, int(kinks.sum()))
            )
    return GradientCheck(
        describe(network),
        tuple(tensors),
        int(np.shape(x)[0]),
        h,
        not fast,
        lang or current_language(),
    )


def describe(obj) -> str:
    """The object's repr, or its class name where the repr is object's default or raises (a
    learner's __repr__ may read an attribute the object does not have yet)."""
    if type(obj).__repr__ is object.__repr__:
        return type(obj).__name__
    try:
        return repr(obj)
    except Exception:
        return type(obj).__name__


def difference_noise(dtype: np.dtype, loss: float, h: float, fast: bool = False) -> float:
    """How far a correct gradient may differ from the difference quotient.

    Truncation: the central difference is off by about h^2 f'''(w) / 6. Rounding: f(w+h) - f(w-h)
    of two losses computed in `dtype` (at least float32's precision) loses about
    eps * |loss| / h; the fast path computes each sample's change of loss directly and loses
    almost nothing.
    """
    truncation = 100 * h * h  # generous: f''' of a cross-entropy reaches tens
    if fast:
        return truncation
    eps = np.finfo(np.result_type(dtype, np.float32)).eps
    return truncation + 8 * eps * max(1.0, abs(loss)) / h


def across_kinks(
    analytic: np.ndarray,
    loss: float,
    plus: np.ndarray,
    minus: np.ndarray,
    h: float,
    noise: float,
) -> tuple[np.ndarray, np.ndarray]:
    """The numerical values to judge `analytic` by, and where the loss has a kink.

    plus, minus: (K,) losses with each coordinate moved by +h and -h; loss: unmoved. Where the
    one-sided differences part by more than KINK_JUMP of their size, the loss bends sharply
    within h (zero biases put blank image patches exactly on ReLU's kink; max pooling switches
    winners): any value between them is a derivative of one side, so the analytic value counts
    as right there and is otherwise judged by the nearer one. Elsewhere: the central difference.
    """
    right, left = (plus - loss) / h, (loss - minus) / h
    central = (plus - minus) / (2 * h)
    low, high = np.minimum(left, right), np.maximum(left, right)
    kink = (high - low) > KINK_JUMP * (np.abs(left) + np.abs(right)) + 2 * noise
    return np.where(kink, np.clip(analytic, low, high), central), kink


def refine(
    loss_function,
    param: np.ndarray,
    analytic: np.ndarray,
    index: tuple[np.ndarray, ...],
    values: np.ndarray,
    kinks: np.ndarray,
    h: float,
    loss: float,
    noise: float,
) -> float:
    """Look again, with a step of h / 10, at the coordinates whose analytic value is not yet
    within CORRECT_BELOW of `values`, and keep the closer numerical value (and kink flag), in
    place: a conv net's loss has so many kinks that a step of 1e-5 often straddles two of them,
    where no one-sided difference is a derivative. float64 losses only (at h / 10 float32
    rounding would drown the difference). `noise`: that of step h. Returns the noise that now
    applies."""
    doubtful = relative_error(analytic, values, noise) >= CORRECT_BELOW
    if not doubtful.any():
        return noise
    finer, subset = h / 10, tuple(i[doubtful] for i in index)
    finer_noise = difference_noise(np.float64, loss, finer)
    plus, minus = losses_at(lambda _: float(loss_function()), param, subset, finer)
    closer_values, closer_kinks = across_kinks(
        analytic[doubtful], loss, plus, minus, finer, finer_noise
    )
    before = relative_error(analytic[doubtful], values[doubtful], noise)
    better = relative_error(analytic[doubtful], closer_values, finer_noise) < before
    where = np.flatnonzero(doubtful)[better]
    values[where], kinks[where] = closer_values[better], closer_kinks[better]
    return finer_noise if better.any() else noise


def relative_error(analytic: np.ndarray, numerical: np.ndarray, noise: float) -> np.ndarray:
    """CS231n's relative error, 0 where the absolute difference is within `noise`."""
    difference = np.abs(analytic - numerical)
    relative = difference / np.maximum(np.abs(analytic) + np.abs(numerical), DENOMINATOR_FLOOR)
    return np.where(difference > noise, relative, 0.0)


def problem(name: str, shape: tuple[int, ...], what: str, /, **args: str) -> TensorCheck:
    """The check of a tensor whose gradient could not be compared: `what` (an N_() message,
    formatted with `args`) says why."""
    return TensorCheck(name, shape, 0, np.inf, np.inf, None, 0.0, problem=what, problem_args=args)


def compare(
    name: str,
    shape: tuple[int, ...],
    analytic: np.ndarray,
    numerical: np.ndarray,
    index: tuple[np.ndarray, ...],
    noise: float,
    kinks: int = 0,
) -> TensorCheck:
    """The TensorCheck of `analytic` against `numerical`, both (K,) values at the K coordinates
    `index` (a tuple of coordinate arrays) of a tensor of `shape`."""
    abs_error = np.abs(analytic - numerical)
    judged = relative_error(analytic, numerical, noise)
    judged[~np.isfinite(abs_error)] = np.inf
    worst = None
    if judged.size:
        # where nothing exceeds the noise, the largest difference still shows how close they are
        worst = int(np.argmax(judged if judged.max() > 0 else np.nan_to_num(abs_error)))
    return TensorCheck(
        name=name,
        shape=shape,
        checked=int(judged.size),
        max_relative_error=float(judged.max()) if judged.size else 0.0,
        max_absolute_error=float(abs_error.max()) if judged.size else 0.0,
        worst_index=None if worst is None else tuple(int(i[worst]) for i in index),
        noise=float(noise),
        worst_analytic=None if worst is None else float(analytic[worst]),
        worst_numerical=None if worst is None else float(numerical[worst]),
        kinks=kinks,
    )


def _display_width(text: str) -> int:
    """Columns `text` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _display_width(text))

"""Checks of the forward pass: saturated and dead units, and what predict returns."""

from __future__ import annotations

import numpy as np

from digitlab.doctor.context import Context
from digitlab.doctor.findings import ERROR, INFO, WARNING
from digitlab.doctor.ranges import format_range
from digitlab.doctor.thresholds import (
    DEAD_UNITS_ERROR,
    DEAD_UNITS_MIN_SAMPLES,
    DEAD_UNITS_WARNING,
    FLAT_DERIVATIVE_FRACTION,
    SATURATED_ERROR,
    SATURATED_WARNING,
    SUM_TOLERANCE,
)
from digitlab.nn.functional import log_softmax, sigmoid

#: how far below zero an output may be and still count as non-negative (rounding)
NEGATIVE_TOLERANCE = 1e-9
#: relative agreement of the network's loss with the cross-entropy of softmax(predict(x)) for
#: predict to be returning scores that the loss turns into probabilities itself (the book's
#: log(y + 1e-7) moves a loss by up to about 1e-2 where probabilities are tiny)
LOGITS_LOSS_TOLERANCE = 1e-2


def dead_units(fired: np.ndarray) -> tuple[str, dict] | None:
    """The severity and evidence of a dead-units finding, from `fired` (samples, units) bool:
    whether each ReLU unit's output was positive for each sample. None where too few units are
    dead to tell, or too few samples to judge. Used by examine and by the training watcher."""
    samples = fired.shape[0]
    if samples < DEAD_UNITS_MIN_SAMPLES:
        return None
    dead = ~np.any(fired, axis=0)
    fraction = float(dead.mean())
    if fraction < DEAD_UNITS_WARNING:
        return None
    severity = ERROR if fraction >= DEAD_UNITS_ERROR else WARNING
    evidence = {"fraction": fraction, "dead": int(dead.sum()), "units": int(dead.size)}
    return severity, {**evidence, "samples": samples}


def flat_fraction(activation: str, a: np.ndarray) -> float:
    """Fraction of the pre-activations `a` where sigmoid/tanh's derivative is nearly zero."""
    with np.errstate(all="ignore"):
        if activation == "sigmoid":
            s = sigmoid(a)
            derivative = s * (1 - s) / 0.25
        else:
            derivative = 1 - np.tanh(a) ** 2
    return float(np.mean(derivative < FLAT_DERIVATIVE_FRACTION))


def check_activations(ctx: Context) -> None:
    """activations-saturated (sigmoid/tanh, hidden and output) and dead-units (ReLU)."""
    anatomy = ctx.anatomy
    if anatomy is None:
        return
    pre = anatomy.preactivations(ctx.params, ctx.x)
    if not all(np.all(np.isfinite(a)) for a in pre):
        return  # the non-finite check speaks for these
    hidden = anatomy.hidden
    for layer, a in zip(anatomy.hidden_layers, pre, strict=False):
        subject = layer.weight  # the units fed by this weight matrix
        if hidden in ("sigmoid", "tanh"):
            _saturation(ctx, subject, hidden, a)
        elif hidden == "relu" and (found := dead_units(a > 0)) is not None:
            severity, evidence = found
            ctx.add("dead-units", severity, subject, **evidence, mean_preactivation=float(a.mean()))
    if anatomy.output in ("sigmoid", "tanh"):
        _saturation(ctx, anatomy.layers[-1].weight, anatomy.output, pre[-1])


def _saturation(ctx: Context, subject: str, activation: str, a: np.ndarray) -> None:
    fraction = flat_fraction(activation, a)
    if fraction >= SATURATED_WARNING:
        ctx.add(
            "activations-saturated",
            ERROR if fraction >= SATURATED_ERROR else WARNING,
            subject,
            fraction=fraction,
            activation=activation,
            mean_abs_preactivation=float(np.mean(np.abs(a))),
        )


def check_output(ctx: Context) -> None:
    """output-not-probability and softmax-across-batch, from predict(x)."""
    y = ctx.output
    if y is None:
        return
    n = ctx.samples
    if y.ndim != 2 or y.shape[0] != n:
        ctx.add(
            "output-not-probability",
            WARNING,
            "predict()",
            "shape",
            shape="x".join(map(str, y.shape)),
            samples=n,
        )
        return
    if not np.all(np.isfinite(y)):
        bad = ~np.isfinite(y)
        ctx.add(
            "non-finite",
            ERROR,
            "predict()",
            "output",
            count=int(bad.sum()),
            first_sample=int(np.argwhere(bad)[0][0]),
        )
        return
    sums = y.sum(axis=1)
    lowest = float(y.min())
    rows_ok = bool(np.all(np.abs(sums - 1) <= SUM_TOLERANCE))
    if rows_ok and lowest >= -NEGATIVE_TOLERANCE:
        return
    evidence = dict(
        min=lowest,
        row_sum_min=float(sums.min()),
        row_sum_max=float(sums.max()),
    )
    output = ctx.anatomy.output if ctx.anatomy is not None else None
    total = float(y.sum())
    columns = int(np.sum(np.abs(y.sum(axis=0) - 1) <= SUM_TOLERANCE))
    batch_wide = lowest >= -NEGATIVE_TOLERANCE and (
        abs(total - 1) <= SUM_TOLERANCE or columns == y.shape[1]
    )
    if output in ("softmax-batch", "softmax-columns") or batch_wide:
        ctx.add(
            "softmax-across-batch",
            ERROR,
            "predict()",
            "columns" if output == "softmax-columns" or columns == y.shape[1] else "",
            min=lowest,
            row_sums=format_range(sums.min(), sums.max()),
            batch_sum=total,
        )
        return
    if _loss_is_softmax_cross_entropy(ctx, y):
        ctx.add("output-not-probability", INFO, "predict()", "logits", **evidence)
        return
    negative = lowest < -NEGATIVE_TOLERANCE
    severity = ERROR if negative or output in ("tanh", "identity") else WARNING
    ctx.add(
        "output-not-probability",
        severity,
        "predict()",
        "negative" if negative else "sum",
        **evidence,
        output=output or "?",
    )


def _loss_is_softmax_cross_entropy(ctx: Context, scores: np.ndarray) -> bool:
    """Whether the network's loss is the cross-entropy of softmax(scores) (mean or sum)."""
    if ctx.loss is None or not np.isfinite(ctx.loss):
        return False
    t = np.asarray(ctx.t)
    n, classes = scores.shape
    log_p = log_softmax(scores)
    if t.ndim == 1 and t.dtype.kind in "iu" and t.min() >= 0 and t.max() < classes:
        per_sample = -log_p[np.arange(n), t]
    elif t.shape == scores.shape:
        per_sample = -np.sum(np.where(t != 0, t * log_p, 0.0), axis=1)
    else:
        return False
    for candidate in (per_sample.mean(), per_sample.sum()):
        if abs(candidate - ctx.loss) <= LOGITS_LOSS_TOLERANCE * max(1.0, abs(candidate)):
            return True
    return False

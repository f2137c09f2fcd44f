"""The batch itself: are the inputs scaled, are the labels labels, and in which form does the
learner's loss take them?

Images of any size are judged alike: MNIST's 28x28 and scikit-learn's 8x8 digits (0-16) too.
"""

from __future__ import annotations

import numpy as np

from digitlab.doctor.context import FAILED, Context
from digitlab.doctor.findings import ERROR, WARNING
from digitlab.doctor.thresholds import INPUT_RAW_ABOVE, INPUT_TINY_BELOW, SUM_TOLERANCE


def check_inputs(ctx: Context) -> None:
    """input-not-normalized: raw pixel values (bytes 0-255, scikit-learn's digits 0-16), or
    values scaled twice (all < 0.1)."""
    x = np.asarray(ctx.x)
    if x.size == 0 or x.dtype.kind not in "biuf":
        return
    values = x.astype(np.float64, copy=False)
    finite = np.isfinite(values)
    if not finite.all():
        where = np.argwhere(~finite)[0]
        ctx.add(
            "non-finite",
            ERROR,
            "x",
            "input",
            count=int((~finite).sum()),
            first_sample=int(where[0]),
        )
        return
    largest = float(np.abs(values).max())
    mean = float(values.mean())
    if largest > INPUT_RAW_ABOVE:
        ctx.add(
            "input-not-normalized",
            ERROR,
            "x",
            "raw",
            max=largest,
            mean=mean,
            dtype=str(x.dtype),
        )
    elif 0 < largest < INPUT_TINY_BELOW:
        ctx.add("input-not-normalized", WARNING, "x", "tiny", max=largest, mean=mean)


def check_labels(ctx: Context) -> None:
    """labels-invalid: out of range, not one-hot, or a shape that does not fit x and the output."""
    t = np.asarray(ctx.t)
    n, classes = ctx.samples, ctx.classes
    shape = "x".join(map(str, t.shape))
    if t.ndim == 0 or t.shape[0] != n:
        ctx.add("labels-invalid", ERROR, "t", "rows", shape=shape, samples=n)
        return
    if t.dtype.kind not in "biuf":
        ctx.add("labels-invalid", ERROR, "t", "dtype", dtype=str(t.dtype))
        return
    values = t.astype(np.float64, copy=False)
    if not np.all(np.isfinite(values)):
        ctx.add("labels-invalid", ERROR, "t", "non-finite", count=int((~np.isfinite(values)).sum()))
        return
    if t.ndim == 2 and t.shape[1] == 1 and classes not in (None, 1):
        ctx.add("labels-invalid", ERROR, "t", "column", shape=shape, classes=classes)
        return
    if t.ndim == 1:
        if np.any(values != np.round(values)):
            ctx.add("labels-invalid", ERROR, "t", "fractional", example=float(values[0]))
            return
        low, high = int(values.min()), int(values.max())
        if low < 0 or (classes is not None and high >= classes):
            ctx.add(
                "labels-invalid",
                ERROR,
                "t",
                "range",
                min=low,
                max=high,
                classes=classes if classes is not None else high + 1,
            )
        return
    if t.ndim != 2:
        ctx.add("labels-invalid", ERROR, "t", "ndim", shape=shape)
        return
    if classes is not None and t.shape[1] != classes:
        ctx.add("labels-invalid", ERROR, "t", "columns", shape=shape, classes=classes)
        return
    sums = values.sum(axis=1)
    bad = (np.abs(sums - 1) > SUM_TOLERANCE) | np.any(values < 0, axis=1)
    if bad.any():
        first = int(np.argmax(bad))
        ctx.add(
            "labels-invalid",
            ERROR,
            "t",
            "one-hot",
            bad_rows=int(bad.sum()),
            first_bad_row=first,
            row_sum=float(sums[first]),
            row_min=float(values[first].min()),
        )


#: the label forms a loss may take, in the order tried: the book's one-hot rows first
LABEL_FORMS = ("one-hot", "index")


def labels_for_loss(
    network, x: np.ndarray, labels: np.ndarray, classes: int, form: str = "auto"
) -> np.ndarray:
    """The labels in the form the network's `loss(x, t)` takes.

    x: (N, D) inputs; labels: (N,) int class indices; classes: C, the number of classes.
    form: "one-hot" for (N, C) rows, "index" for the (N,) indices, or "auto": the first of
    LABEL_FORMS for which loss(x, t) returns one finite number, else the first (the examination
    then reports what goes wrong in the loss). One-hot first: a loss written for indices raises
    on float rows, which cannot index, but one written for one-hot rows multiplies indices in
    silently, by broadcasting, where the batch has as many samples as there are classes.

    The form is the doctor's choice, not the learner's, so a loss that refuses the other form is
    no finding: the trial calls report nothing.
    """
    shaped = {"one-hot": np.eye(classes)[labels], "index": labels}
    if form != "auto":
        return shaped[form]
    trial = Context(network, x, labels, None, "en")
    for candidate in LABEL_FORMS:
        loss = trial.call("loss", x, shaped[candidate], report=False)
        if loss is not FAILED and _finite_number(loss):
            return shaped[candidate]
    return shaped[LABEL_FORMS[0]]


def _finite_number(value) -> bool:
    """Whether `value` is one finite number (a float or a 0-d array), as a mean loss is."""
    try:
        number = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return False
    return number.ndim == 0 and bool(np.isfinite(number))

"""Checks of the loss: a finite number, and a mean over the batch rather than a sum."""

from __future__ import annotations

import numpy as np

from digitlab.doctor.context import FAILED, Context
from digitlab.doctor.findings import ERROR, WARNING
from digitlab.doctor.thresholds import LOSS_SUM_RATIO


def evaluate_loss(ctx: Context) -> None:
    """ctx.loss = loss(x, t) as a float; non-finite (or not a number) is a finding."""
    value = ctx.call("loss", ctx.x, ctx.t)
    if value is FAILED:
        return
    array = np.asarray(value)
    if array.dtype.kind not in "biuf" or array.size != 1:
        ctx.add(
            "non-finite",
            ERROR,
            "loss()",
            "not-scalar",
            shape="x".join(map(str, array.shape)) or "()",
            dtype=str(array.dtype),
        )
        return
    loss = float(array.reshape(()))
    if not np.isfinite(loss):
        ctx.add("non-finite", ERROR, "loss()", "loss", loss=loss)
        return
    ctx.loss = loss


def check_loss_averaged(ctx: Context) -> None:
    """loss-not-averaged: the loss of the batch taken twice is twice the loss (a sum).

    Repeating every sample leaves a mean unchanged and doubles a sum exactly, whatever the
    network; a loss that also depends on the batch in other ways (a batch-wide softmax) moves a
    little, far less than a sum.
    """
    if ctx.loss is None or ctx.loss == 0:
        return
    x2 = np.concatenate([ctx.x, ctx.x])
    t2 = np.concatenate([ctx.t, ctx.t])
    value = ctx.call("loss", x2, t2, report=False)
    if value is FAILED:
        return  # a network built for one batch size; nothing to conclude
    try:
        doubled = float(np.asarray(value).reshape(()))
    except (TypeError, ValueError):
        return
    ratio = doubled / ctx.loss
    if np.isfinite(ratio) and ratio > LOSS_SUM_RATIO:
        ctx.add(
            "loss-not-averaged",
            WARNING,
            "loss()",
            loss=ctx.loss,
            loss_of_batch_twice=doubled,
            ratio=ratio,
            samples=ctx.samples,
        )

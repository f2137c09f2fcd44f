"""Trial steps of gradient descent on the batch: does the given learning rate make progress?

A few steps p <- p - lr * gradient on the same batch (the weights are put back afterwards, bit
for bit): a loss that climbs or turns non-finite means the rate is too high; one that barely
moves, while a rate 100 times larger moves it, means it is too low. Plain SGD is assumed.
"""

from __future__ import annotations

import numpy as np

from digitlab.doctor.backward import gradient_dict
from digitlab.doctor.context import FAILED, Context
from digitlab.doctor.findings import ERROR, WARNING
from digitlab.doctor.thresholds import (
    TRIAL_DIVERGED_FACTOR,
    TRIAL_LARGER_FACTOR,
    TRIAL_STEPS,
    TRIAL_TOO_LOW_DECREASE,
)

#: smaller rates tried, as fractions of the given one, to suggest one that does not diverge
SMALLER_FACTORS = (1 / 3, 1 / 10, 1 / 30, 1 / 100, 1 / 1000)


def check_learning_rate(ctx: Context) -> None:
    """learning-rate-too-high / learning-rate-too-low, when a learning rate was given."""
    lr = ctx.learning_rate
    if lr is None or ctx.loss is None or not ctx.grads or "gradient-wrong" in ctx.flags:
        return
    if not all(isinstance(ctx.params[name], np.ndarray) for name in ctx.grads):
        return
    start = ctx.loss
    losses = _trial(ctx, lr)
    if losses is None:
        return
    highest = max(losses, key=lambda v: v if np.isfinite(v) else np.inf)
    diverged = not np.isfinite(highest) or highest > TRIAL_DIVERGED_FACTOR * start
    final = losses[-1]
    if diverged:
        suggestion = _largest_stable(ctx, lr, start)
        ctx.add(
            "learning-rate-too-high",
            ERROR,
            "learning_rate",
            "diverged" if suggestion else "diverged-all",
            learning_rate=lr,
            loss_before=start,
            loss_highest=highest,
            steps=len(losses),
            suggested=suggestion or lr / 1000,
        )
        return
    if final > start:
        ctx.add(
            "learning-rate-too-high",
            WARNING,
            "learning_rate",
            "no-progress",
            learning_rate=lr,
            loss_before=start,
            loss_after=final,
            steps=len(losses),
        )
        return
    if start == 0:
        return  # nothing left to learn on this batch
    decrease = (start - final) / abs(start)
    if decrease < TRIAL_TOO_LOW_DECREASE:
        larger = lr * TRIAL_LARGER_FACTOR
        trial = _trial(ctx, larger)
        if trial is None or not np.all(np.isfinite(trial)):
            return
        larger_decrease = (start - trial[-1]) / abs(start)
        if max(trial) <= start and larger_decrease > 10 * max(decrease, 0.0):
            ctx.add(
                "learning-rate-too-low",
                WARNING,
                "learning_rate",
                learning_rate=lr,
                decrease=decrease,
                steps=len(losses),
                larger=larger,
                decrease_at_larger=larger_decrease,
            )


def _largest_stable(ctx: Context, lr: float, start: float) -> float | None:
    """The largest of lr/3, lr/10, ... whose trial lowers the loss without diverging."""
    for factor in SMALLER_FACTORS:
        losses = _trial(ctx, lr * factor)
        if losses is None:
            return None
        stable = all(np.isfinite(losses)) and max(losses) <= TRIAL_DIVERGED_FACTOR * start
        if stable and losses[-1] < start:
            return lr * factor
    return None


def _trial(ctx: Context, lr: float) -> list[float] | None:
    """Losses after each of TRIAL_STEPS steps at `lr`; the weights are restored afterwards."""
    names = list(ctx.grads)
    saved = {name: ctx.params[name].copy() for name in names}
    losses: list[float] = []
    try:
        grads = ctx.grads
        for step in range(TRIAL_STEPS):
            if step > 0:
                grads = gradient_dict(ctx, report=False)
                if grads is None or any(name not in grads for name in names):
                    return None
            try:
                with np.errstate(all="ignore"):
                    for name in names:
                        param = ctx.params[name]
                        param[...] = param - lr * grads[name]
            except (ValueError, TypeError):  # read-only weights, or a gradient that will not fit
                return None
            value = ctx.call("loss", ctx.x, ctx.t, report=False)
            if value is FAILED:
                return None
            loss = float(np.asarray(value).reshape(()))
            losses.append(loss)
            if not np.isfinite(loss):
                break
    finally:
        for name in names:
            if ctx.params[name].flags.writeable:
                ctx.params[name][...] = saved[name]
    return losses

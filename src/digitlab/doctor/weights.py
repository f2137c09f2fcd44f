"""Checks of the parameters: finite, and of the scale and sign their layer calls for."""

from __future__ import annotations

import numpy as np

from digitlab.doctor.anatomy import recommended_std
from digitlab.doctor.context import Context, rms
from digitlab.doctor.findings import ERROR, INFO, WARNING
from digitlab.doctor.thresholds import (
    INIT_TOO_LARGE_ERROR,
    INIT_TOO_LARGE_WARNING,
    INIT_TOO_SMALL_INFO,
    INIT_TOO_SMALL_WARNING,
    NOT_CENTERED_MEAN_OVER_STD,
)


def check_finite_params(ctx: Context) -> bool:
    """non-finite: NaN or Inf in a parameter (the first one, in params order). True if all fine."""
    counts = {}
    for name, value in ctx.params.items():
        array = np.asarray(value)
        if array.dtype.kind in "fc":
            bad = int(np.count_nonzero(~np.isfinite(array)))
            if bad:
                counts[name] = (bad, array)
    if not counts:
        return True
    name, (bad, array) = next(iter(counts.items()))
    index = np.argwhere(~np.isfinite(array))[0] if array.ndim else ()
    ctx.add(
        "non-finite",
        ERROR,
        str(name),
        "params",
        count=bad,
        size=int(array.size),
        first_index=str(list(map(int, index))),
        tensors=", ".join(map(str, counts)),
    )
    return False


def check_initial_weights(ctx: Context) -> None:
    """init-too-large, init-too-small, init-not-centered, per weight matrix of the chain."""
    anatomy = ctx.anatomy
    if anatomy is None:
        return
    n_layers = len(anatomy.layers)
    signal = 1.0  # product of (RMS / recommended) over the hidden layers
    smallest: tuple[float, str] | None = None
    for layer in anatomy.layers:
        last = layer.index == n_layers
        activation = None if last else anatomy.hidden
        W = np.asarray(ctx.params[layer.weight], dtype=np.float64)
        size, mean, std = rms(W), float(W.mean()), float(W.std())
        if last:
            recommended, scheme = recommended_std("softmax", layer.fan_in)
        elif activation is None:
            # unknown activation: judge "too large" against He (the larger), "too small" against
            # Xavier (the smaller), so either choice passes
            recommended, scheme = recommended_std("relu", layer.fan_in)
        else:
            recommended, scheme = recommended_std(activation, layer.fan_in)
        ratio = size / recommended
        evidence = dict(
            rms=size,
            recommended=recommended,
            scheme=scheme,
            fan_in=layer.fan_in,
            ratio=ratio,
        )
        if size == 0:
            if not last:
                ctx.add("init-too-small", ERROR, layer.weight, "zero", fan_in=layer.fan_in)
                ctx.flags.add("degenerate")
                signal = 0.0
            continue
        if ratio > INIT_TOO_LARGE_WARNING:
            severity = ERROR if ratio > INIT_TOO_LARGE_ERROR else WARNING
            ctx.add("init-too-large", severity, layer.weight, **evidence)
        if std == 0 or abs(mean) > NOT_CENTERED_MEAN_OVER_STD * std:
            ctx.add(
                "init-not-centered",
                WARNING if last else ERROR,
                layer.weight,
                mean=mean,
                std=std,
                positive=float(np.mean(W > 0)),
            )
        if not last:
            if activation is None:
                ratio = size / recommended_std("sigmoid", layer.fan_in)[0]
            signal *= ratio
            if smallest is None or ratio < smallest[0]:
                smallest = (ratio, layer.weight)
            if ratio < INIT_TOO_SMALL_INFO and n_layers == 2 and activation is not None:
                ctx.add("init-too-small", INFO, layer.weight, "shallow", **evidence)
    if 0 < signal < INIT_TOO_SMALL_WARNING and n_layers > 2 and smallest is not None:
        ctx.add(
            "init-too-small",
            WARNING,
            smallest[1],
            "deep",
            signal=signal,
            hidden_layers=n_layers - 1,
        )

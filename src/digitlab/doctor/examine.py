"""`examine(network, x, t)`: every check of the doctor on one batch, as a Report.

The network is any object with `params` (a dict of arrays) and `loss(x, t)`; `predict(x)` and
`gradient(x, t)` are used where present. The checks run on a private deep copy of the network,
so nothing the doctor (or the learner's own code, called by it) does reaches the learner's
parameters; where the network cannot be copied, they run on it and every parameter is put back
bit for bit. Exceptions raised by the learner's code become `network-raised` findings.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping

import numpy as np

from digitlab.doctor.anatomy import chain, identify
from digitlab.doctor.backward import (
    check_gradient,
    check_gradient_scale,
    check_numerical_only,
    evaluate_gradient,
)
from digitlab.doctor.context import FAILED, Context, as_array
from digitlab.doctor.conv import check_conv_layers
from digitlab.doctor.data import check_inputs, check_labels
from digitlab.doctor.findings import WARNING, Report, make_finding, sort_findings
from digitlab.doctor.forward import check_activations, check_output
from digitlab.doctor.learning_rate import check_learning_rate
from digitlab.doctor.loss import check_loss_averaged, evaluate_loss
from digitlab.doctor.weights import check_finite_params, check_initial_weights
from digitlab.errors import ConfigError, NotANetworkError
from digitlab.gradients.check import describe
from digitlab.i18n import LANGUAGES, N_, current_language, translate

#: attributes of the network larger than this many elements that are not parameters (a training
#: set kept on the object) are shared with the private copy instead of copied
SHARE_ABOVE_ELEMENTS = 1_000_000


def examine(
    network,
    x: np.ndarray,
    t: np.ndarray,
    *,
    learning_rate: float | None = None,
    lang: str | None = None,
    seed: int = 0,
) -> Report:
    """Examine `network` on the batch (x, t) and report what would keep it from learning.

    x: (N, D) inputs, e.g. (100, 784) floats in [0, 1]; t: (N,) int labels or (N, C) one-hot, as
    the network's loss expects them. learning_rate: the plain-SGD rate the learner trains with
    (enables the trial steps; the update/weight ratio is judged at 0.1 otherwise). lang: "en"
    or "zh" for the report's messages (None: the current language). seed: of the coordinates
    sampled by the gradient check.

    Raises NotANetworkError for an object without `params` or `loss`; never changes the network.
    """
    lang = lang or current_language()
    if lang not in LANGUAGES:
        raise ConfigError(f"lang={lang!r} is not one of {', '.join(LANGUAGES)}; use 'en' or 'zh'.")
    _require_network(network, lang)
    start = time.perf_counter()
    x = np.asarray(x)
    t = np.asarray(t)
    snapshot = {name: np.array(value, copy=True) for name, value in network.params.items()}
    objects = dict(network.params)
    work, private = _private_copy(network)
    ctx = Context(work, x, t, learning_rate, lang, seed)
    try:
        _run_checks(ctx)
    finally:
        changed = _restore(network, snapshot, objects)
    if changed and not private:
        ctx.findings.append(
            make_finding(
                "network-changed-params",
                WARNING,
                ", ".join(map(str, changed)),
                lang=lang,
                method="loss/predict",
            )
        )
    return Report(
        describe(network),
        sort_findings(ctx.findings),
        int(x.shape[0]) if x.ndim else 0,
        time.perf_counter() - start,
        lang,
    )


def _run_checks(ctx: Context) -> None:
    check_inputs(ctx)
    check_conv_layers(ctx)
    layers = chain(ctx.params, int(np.prod(ctx.x.shape[1:]))) if ctx.x.ndim >= 2 else None
    if not check_finite_params(ctx):
        if layers is not None:
            ctx.classes = layers[-1].fan_out
        check_labels(ctx)
        return
    if callable(getattr(ctx.network, "predict", None)):
        output = ctx.call("predict", ctx.x)
        if output is not FAILED:
            ctx.output = as_array(output)
    if layers is not None:
        ctx.anatomy = identify(ctx.network, layers, ctx.x, ctx.output)
    if ctx.output is not None and ctx.output.ndim == 2 and ctx.output.shape[0] == ctx.samples:
        ctx.classes = int(ctx.output.shape[1])
    elif layers is not None:
        ctx.classes = layers[-1].fan_out
    check_labels(ctx)
    evaluate_loss(ctx)
    check_initial_weights(ctx)
    check_activations(ctx)
    check_output(ctx)
    check_loss_averaged(ctx)
    evaluate_gradient(ctx)
    check_gradient(ctx)
    check_numerical_only(ctx)
    check_gradient_scale(ctx)
    check_learning_rate(ctx)


def _require_network(network, lang: str) -> None:
    params = getattr(network, "params", None)
    if not isinstance(params, Mapping) or not params:
        raise NotANetworkError(
            translate(
                N_(
                    "{name} has no `params` dict of weight arrays; the doctor examines objects "
                    "with `params` and `loss(x, t)`, as in the book's TwoLayerNet."
                ),
                lang,
            ).format(name=type(network).__name__)
        )
    if not callable(getattr(network, "loss", None)):
        raise NotANetworkError(
            translate(
                N_(
                    "{name} has no `loss(x, t)` method; the doctor examines objects with "
                    "`params` and `loss(x, t)`, as in the book's TwoLayerNet."
                ),
                lang,
            ).format(name=type(network).__name__)
        )


def _private_copy(network) -> tuple[object, bool]:
    """A deep copy to examine (True), or the network itself where it cannot be copied (False).

    Large arrays that are not parameters (a data set kept on the object) are shared, not copied.
    """
    params = network.params
    memo: dict[int, object] = {}
    for value in getattr(network, "__dict__", {}).values():
        if (
            isinstance(value, np.ndarray)
            and value.size > SHARE_ABOVE_ELEMENTS
            and not any(value is p for p in params.values())
        ):
            memo[id(value)] = value
    try:
        work = copy.deepcopy(network, memo)
    except Exception:  # an attribute that cannot be copied (a file, a lock): examine in place
        return network, False
    return work, True


def _restore(network, snapshot: dict[str, np.ndarray], objects: dict) -> list[str]:
    """Put the original arrays back under their names with their original bytes; the names of
    the parameters that had been changed."""
    params = network.params
    changed = []
    for name, original in objects.items():
        if params.get(name) is not original:
            changed.append(name)
            params[name] = original
        if isinstance(original, np.ndarray) and original.tobytes() != snapshot[name].tobytes():
            if name not in changed:
                changed.append(name)
            original[...] = snapshot[name]
    for name in [name for name in params if name not in objects]:
        changed.append(name)
        del params[name]
    return changed

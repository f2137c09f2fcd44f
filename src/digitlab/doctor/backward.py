"""Checks of the backward pass: is the gradient right (against finite differences), pointing
downhill, of a scale that lets each tensor learn without jumping?

Correctness reuses digitlab.gradients.check (CS231n's relative error on sampled coordinates);
a tensor it calls wrong is then looked at along its largest partial derivatives, where the
difference quotient is most trustworthy, to tell a flipped sign or a batch-size factor from any
other mistake. Scale is judged as an update/weight ratio, RMS(lr * gradient) / RMS(weights), with
the weights' RMS floored at the scale their layer calls for, so the first steps of a small
initialization do not count as explosions.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Mapping

import numpy as np

from digitlab.doctor.anatomy import BIAS_NAME, recommended_std
from digitlab.doctor.context import FAILED, Context, as_array, rms
from digitlab.doctor.findings import ERROR, INFO, WARNING
from digitlab.doctor.thresholds import (
    ASSUMED_LEARNING_RATE,
    BATCH_FACTOR_TOLERANCE,
    EXPLODING_ABOVE,
    GRADIENT_COORDINATES,
    RECHECK_H,
    SIGN_COORDINATES,
    SIGN_FLIPPED_COSINE,
    VANISHING_BELOW,
)
from digitlab.gradients import check, sampled_numerical_gradient
from digitlab.gradients.check import SAMPLED_H
from digitlab.gradients.keys import align_gradients
from digitlab.nn.base import Network
from digitlab.nn.numerical import central_difference

#: below this loss there is nothing left to learn on the batch, and a tiny gradient is right
NOTHING_TO_LEARN_BELOW = 1e-3
#: cosine above which analytic and numerical gradients point the same way, so that only their
#: size differs (a factor such as the batch size)
SAME_DIRECTION_COSINE = 0.99
#: a probability below which log(y + 1e-7) has a derivative more than 1% off 1/y
GUARD_PROBABILITY = 1e-5
#: cosine above which a disagreement on such samples is put down to the 1e-7 (a real mistake in
#: backpropagation points elsewhere too)
GUARD_COSINE = 0.9


def gradient_dict(ctx: Context, report: bool = True) -> dict[str, np.ndarray] | None:
    """gradient(x, t) keyed like params, whatever the learner's spelling of the keys ('dW1',
    'grad_W1', 'W1_grad' for 'W1': digitlab.gradients.keys)."""
    value = ctx.call("gradient", ctx.x, ctx.t, report=report)
    if value is FAILED:
        return None
    if not isinstance(value, Mapping):
        if report:
            ctx.add(
                "gradient-mismatch",
                ERROR,
                "gradient()",
                "not-dict",
                returned=type(value).__name__,
            )
        return None
    grads = {}
    for name, gradient in align_gradients(ctx.params, value).items():
        array = as_array(gradient)
        if array is not None:
            grads[name] = array
    return grads


def evaluate_gradient(ctx: Context) -> None:
    """ctx.grads, with findings for missing keys, wrong shapes and non-finite values."""
    if not callable(getattr(ctx.network, "gradient", None)):
        return
    before = {name: np.array(value, copy=True) for name, value in ctx.params.items()}
    grads = gradient_dict(ctx)
    changed = [
        name
        for name, value in before.items()
        if name not in ctx.params or not _same(ctx.params[name], value)
    ]
    if changed:
        ctx.add("network-changed-params", WARNING, ", ".join(map(str, changed)), method="gradient")
        for name, value in before.items():
            if name in ctx.params and isinstance(ctx.params[name], np.ndarray):
                ctx.params[name][...] = value
    if grads is None:
        return
    usable = {}
    for name, param in ctx.params.items():
        shape = np.shape(param)
        if name not in grads:
            ctx.add("gradient-mismatch", ERROR, str(name), "missing", shape=_shape(shape))
        elif grads[name].shape != shape:
            ctx.add(
                "gradient-mismatch",
                ERROR,
                str(name),
                "shape",
                shape=_shape(grads[name].shape),
                expected=_shape(shape),
            )
        else:
            usable[name] = grads[name]
    bad = [name for name, g in usable.items() if not np.all(np.isfinite(g))]
    if bad:
        ctx.add(
            "non-finite",
            ERROR,
            str(bad[0]),
            "gradient",
            count=int(np.count_nonzero(~np.isfinite(usable[bad[0]]))),
            tensors=", ".join(map(str, bad)),
        )
        ctx.flags.add("gradient-wrong")
        return
    if len(usable) < len(ctx.params):
        ctx.flags.add("gradient-wrong")
    ctx.grads = usable


class _Adapter:
    """The network as digitlab.gradients.check sees it: the tensors to check, the gradient
    already computed, the loss as a float."""

    def __init__(self, network, grads: dict[str, np.ndarray], names: list[str]) -> None:
        self._network = network
        self._grads = grads
        self.params = {name: network.params[name] for name in names}

    def loss(self, x, t) -> float:
        return float(np.asarray(self._network.loss(x, t)).reshape(()))

    def gradient(self, x, t) -> dict[str, np.ndarray]:
        return self._grads


def check_gradient(ctx: Context) -> None:
    """gradient-mismatch and gradient-sign-flipped, tensor by tensor."""
    if not ctx.grads or ctx.loss is None or "degenerate" in ctx.flags:
        return  # all-zero weights sit on every ReLU kink at once: no derivative to compare
    result = _check(ctx, list(ctx.grads), ctx.seed)
    if result is None:
        return
    verdicts = {tensor.name: tensor for tensor in result.tensors}
    doubtful = [
        name
        for name, tensor in verdicts.items()
        if tensor.verdict != "correct" and np.asarray(ctx.params[name]).dtype == np.float64
    ]
    if doubtful:
        second = _check(ctx, doubtful, ctx.seed + 1, RECHECK_H)
        for tensor in second.tensors if second is not None else ():
            if tensor.max_relative_error < verdicts[tensor.name].max_relative_error:
                verdicts[tensor.name] = tensor
    guard: list[str] = []
    guard_evidence: dict = {}
    for tensor in verdicts.values():
        if tensor.verdict == "correct":
            continue
        evidence = dict(
            max_relative_error=tensor.max_relative_error,
            checked=tensor.checked,
        )
        if tensor.verdict == "suspicious":
            ctx.add("gradient-mismatch", WARNING, tensor.name, "suspicious", **evidence)
            continue
        cosine, scale = _direction(ctx, tensor.name)
        guarded = _guarded_samples(ctx)
        if guarded and cosine is not None and cosine > GUARD_COSINE:
            guard.append(str(tensor.name))
            worst = guard_evidence.get("max_relative_error", 0.0)
            if tensor.max_relative_error >= worst:
                guard_evidence = dict(guarded=guarded, cosine=cosine, **evidence)
            continue
        ctx.flags.add("gradient-wrong")
        if cosine is not None and cosine < SIGN_FLIPPED_COSINE:
            ctx.add("gradient-sign-flipped", ERROR, tensor.name, cosine=cosine, **evidence)
        elif cosine is not None and cosine > SAME_DIRECTION_COSINE and scale is not None:
            batch = abs(scale / ctx.samples - 1) <= BATCH_FACTOR_TOLERANCE
            ctx.add(
                "gradient-mismatch",
                ERROR,
                tensor.name,
                "batch" if batch else "scale",
                factor=scale,
                samples=ctx.samples,
                **evidence,
            )
        else:
            if cosine is not None:
                evidence["cosine"] = cosine
            ctx.add("gradient-mismatch", ERROR, tensor.name, **evidence)
    if guard:
        ctx.add("gradient-mismatch", WARNING, ", ".join(guard), "guard", **guard_evidence)


def _guarded_samples(ctx: Context) -> int:
    """Samples whose predicted probability of the right class is below GUARD_PROBABILITY, where
    the learners' log(y + 1e-7) bends the loss away from the cross-entropy their backward pass
    differentiates: there the two disagree although backpropagation is right."""
    y, t = ctx.output, np.asarray(ctx.t)
    if y is None or y.ndim != 2 or y.shape[0] != ctx.samples:
        return 0
    if t.ndim == 1 and t.dtype.kind in "iu" and t.min() >= 0 and t.max() < y.shape[1]:
        right = y[np.arange(len(t)), t]
    elif t.shape == y.shape:
        right = np.sum(y * (t == t.max(axis=1, keepdims=True)), axis=1)
    else:
        return 0
    return int(np.sum(right < GUARD_PROBABILITY))


def _check(ctx: Context, names: list[str], seed: int, h: float | None = None):
    """digitlab.gradients.check on the tensors `names`, or None if the learner's loss raised."""
    network = ctx.network
    if isinstance(network, Network) and network.dtype != np.float64:
        network = network.astype(np.float64)  # so float32 rounding does not hide a mistake
        grads = network.gradient(ctx.x, ctx.t)
    else:
        grads = ctx.grads
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            return check(
                _Adapter(network, grads, names),
                ctx.x,
                ctx.t,
                coordinates=GRADIENT_COORDINATES,
                seed=seed,
                h=h,
            )
    except Exception:  # the learner's loss failed on a perturbed weight: report it as such
        ctx.call("loss", ctx.x, ctx.t)
        return None


def _direction(ctx: Context, name: str) -> tuple[float | None, float | None]:
    """Cosine between analytic and numerical gradient, and the median |analytic| / |numerical|,
    over the coordinates with the largest analytic partial derivatives."""
    analytic = ctx.grads[name]
    param = ctx.params[name]
    magnitude = np.abs(analytic).ravel()
    count = min(SIGN_COORDINATES, int(np.count_nonzero(magnitude)))
    if count == 0 or not isinstance(param, np.ndarray):
        return None, None
    chosen = np.argpartition(magnitude, -count)[-count:]
    index = np.unravel_index(chosen, analytic.shape)
    a = analytic[index]
    numerical = np.array(
        [_difference(ctx, param, point) for point in zip(*index, strict=True)], dtype=np.float64
    )
    if not np.all(np.isfinite(numerical)):
        return None, None
    norm = np.linalg.norm(a) * np.linalg.norm(numerical)
    cosine = float(a @ numerical / norm) if norm > 0 else None
    nonzero = np.abs(numerical) > 0
    scale = (
        float(np.median(np.abs(a[nonzero]) / np.abs(numerical[nonzero]))) if nonzero.any() else None
    )
    return cosine, scale


def _difference(ctx: Context, param: np.ndarray, point: tuple[int, ...]) -> float:
    """Central difference of the loss at one coordinate; the weight is restored bit for bit."""
    return central_difference(lambda _param: _loss(ctx), param, point, SAMPLED_H)


def _loss(ctx: Context) -> float:
    value = ctx.call("loss", ctx.x, ctx.t, report=False)
    try:
        return float(np.asarray(value).reshape(()))
    except (TypeError, ValueError):
        return float("nan")


def check_gradient_scale(ctx: Context) -> None:
    """vanishing-gradient and exploding-gradient, per weight matrix (biases start at zero and
    have no scale of their own to be judged against)."""
    if ctx.loss is None:
        return
    estimated = ctx.grads is None
    grads = ctx.grads if ctx.grads is not None else _estimated_gradients(ctx)
    learning_rate = ctx.learning_rate or ASSUMED_LEARNING_RATE
    floors = {}
    if ctx.anatomy is not None:
        for layer in ctx.anatomy.layers:
            last = layer.index == len(ctx.anatomy.layers)
            activation = "softmax" if last else ctx.anatomy.hidden
            floors[layer.weight] = recommended_std(activation, layer.fan_in)[0]
    for name, g in grads.items():
        param = ctx.params[name]
        if np.ndim(param) < 2 or (isinstance(name, str) and BIAS_NAME.match(name)):
            continue
        weight_scale = max(rms(param), floors.get(name, 0.0))
        if weight_scale == 0 or not np.isfinite(weight_scale):
            continue
        ratio = rms(g) / weight_scale
        evidence = dict(gradient_rms=rms(g), weight_rms=rms(param))
        if ratio * learning_rate > EXPLODING_ABOVE:
            ctx.add(
                "exploding-gradient",
                ERROR,
                str(name),
                "given" if ctx.learning_rate else "assumed",
                update_ratio=ratio * learning_rate,
                learning_rate=learning_rate,
                **evidence,
            )
        elif ratio < VANISHING_BELOW and ctx.loss > NOTHING_TO_LEARN_BELOW:
            ctx.add(
                "vanishing-gradient",
                ERROR,
                str(name),
                "estimated" if estimated else "",
                gradient_ratio=ratio,
                **evidence,
            )


def _estimated_gradients(ctx: Context) -> dict[str, np.ndarray]:
    """For a network without gradient(): central differences at sampled coordinates of each
    weight matrix (their RMS estimates the gradient's)."""
    rng = np.random.default_rng(ctx.seed)
    estimates = {}
    for name, param in ctx.params.items():
        if not isinstance(param, np.ndarray) or param.ndim < 2 or param.dtype.kind != "f":
            continue
        _, values = sampled_numerical_gradient(
            lambda _: _loss(ctx), param, GRADIENT_COORDINATES, rng, SAMPLED_H
        )
        if np.all(np.isfinite(values)):
            estimates[name] = values
    return estimates


def check_numerical_only(ctx: Context) -> None:
    """numerical-gradient-only: no gradient(), only the book's numerical_gradient (right, but
    two forward passes per parameter: far too slow to train with)."""
    if callable(getattr(ctx.network, "gradient", None)):
        return
    if not callable(getattr(ctx.network, "numerical_gradient", None)) or ctx.loss is None:
        return
    start = time.perf_counter()
    repeats = 3
    for _ in range(repeats):
        ctx.call("loss", ctx.x, ctx.t, report=False)
    seconds = (time.perf_counter() - start) / repeats
    count = int(sum(np.size(p) for p in ctx.params.values()))
    ctx.add(
        "numerical-gradient-only",
        INFO,
        "numerical_gradient()",
        parameters=count,
        seconds_per_loss=seconds,
        seconds_per_step=2 * count * seconds,
    )


def _same(a, b) -> bool:
    a = np.asarray(a)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _shape(shape) -> str:
    return "x".join(map(str, shape)) or "scalar"

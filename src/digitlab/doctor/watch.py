"""Watching a training run: the doctor's cheap checks, step by step, and a stop with a reason.

Every step costs one comparison of the loss: non-finite, or above WATCH_DIVERGED_FACTOR times
its starting level, ends the run with the finding that explains it (`non-finite`, naming the
array where the NaN appeared first; `update-sign-flipped` when the updates were measured going
up the gradient; `learning-rate-too-high` otherwise) instead of training on NaN.

At the first step and every WATCH_EVERY steps the watcher also measures each weight matrix's
update against the weights *before* the step (from a copy taken before it, so any optimizer;
at a learner's first step, where no copy exists yet, from the gradient and the learning rate),
the update's direction against the gradient, the saturated and dead units of the forward pass
the network just made (read from its layers' caches: digitlab's layers and the book's `Relu` /
`Sigmoid`), and whether the loss has stalled or risen. An update larger than the weights is
noted; one more than WATCH_STOP_UPDATE_RATIO times their size, or updates that climb a rising
loss, stop the run.

digitlab's Trainer adds a watcher by default (`Trainer(..., watch=False)` to leave it out). A
learner's own loop calls it after each update, with the network or a dict of its arrays, and
the gradients under the learner's own names (`dW1`, `grad_W1`, ... are matched to `W1`):

    watcher = TrainingWatcher()
    for i in range(iters_num):
        dW1, db1, dW2, db2 = backward(x_batch, t_batch, W1, b1, W2, b2)
        W1, b1 = W1 - lr * dW1, b1 - lr * db1
        W2, b2 = W2 - lr * dW2, b2 - lr * db2
        loss = loss_of(x_batch, t_batch, W1, b1, W2, b2)
        params, grads = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}, {"dW1": dW1, "dW2": dW2}
        if stop := watcher.check_step(params, loss, grads, learning_rate=lr):
            print(stop.message)
            break
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable, Mapping

import numpy as np

from digitlab.doctor.anatomy import BIAS_NAME
from digitlab.doctor.context import rms
from digitlab.doctor.findings import ERROR, SEVERITY_LABELS, WARNING, Finding, make_finding
from digitlab.doctor.forward import dead_units, flat_fraction
from digitlab.doctor.thresholds import (
    EXPLODING_ABOVE,
    SATURATED_ERROR,
    SATURATED_WARNING,
    WATCH_DIVERGED_FACTOR,
    WATCH_EVERY,
    WATCH_LOSS_FLOOR,
    WATCH_ROSE_FACTOR,
    WATCH_STALL_DECREASE,
    WATCH_STALL_STEPS,
    WATCH_STOP_UPDATE_RATIO,
    WATCH_TINY_UPDATE_RATIO,
    WATCH_UPHILL_COSINE,
)
from digitlab.gradients.keys import align_gradients, gradient_key
from digitlab.i18n import N_, translate
from digitlab.nn.layers import Affine, ReLU, Sigmoid

#: steps whose mean loss is the current level when judging a stall or a rise
RECENT_STEPS = 50


class TrainingWatcher:
    """The doctor's checks during training; a callback for digitlab's Trainer, or called
    directly from a learner's loop (`check_step`).

    Args:
        network: optional, the network (or a dict of its arrays) before its first update: its
            weights are copied, so that the first step is measured against them. Without it,
            the first step is judged from `grads` and `learning_rate` where given, and the
            copy is taken at the first call (the Trainer takes it when fit begins).
        every: steps between the fuller checks (update/weight ratio and direction, saturation,
            dead units, stall); they also run at the first step; the loss is checked at every
            step.
        lang: language of the findings ("en", "zh"; None: the current language).
        log: where to write a line for each new warning (None: nowhere); the Trainer passes its
            own log.

    Attributes:
        findings: everything found so far, in order.
        stopped_by: the finding that ended the run, or None.
    """

    def __init__(
        self,
        network=None,
        *,
        every: int = WATCH_EVERY,
        lang: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.every = max(1, int(every))
        self.lang = lang
        self.log = log
        self.reset()
        if network is not None:
            self._before = _weights(_params_of(network), copy=True)

    def reset(self) -> None:
        """Forget the run so far (called at the start of each fit)."""
        self.findings: list[Finding] = []
        self.stopped_by: Finding | None = None
        #: steps seen since the reset, and the number of the latest (the Trainer's count)
        self._seen = 0
        self._step = 0
        #: the latest losses (finite), enough to judge a stall or a rise
        self._losses: deque[float] = deque(maxlen=RECENT_STEPS)
        self._start: float | None = None
        self._limit = -math.inf  # until the first loss is seen: every step takes the slow path
        #: copies of the weight matrices before the step about to be measured
        self._before: dict[str, np.ndarray] | None = None
        #: the latest measured cosine between update and gradient, its step, and whether that
        #: update was too large for its direction to explain a rising loss
        self._cosine: float | None = None
        self._cosine_step = 0
        #: the learning rate of the step being checked (the optimizer's, or check_step's)
        self._rate: float | None = None
        self._cosine_exploding = False
        self._reported: set[tuple[str, str]] = set()
        self._stall_judged = False

    # -- the Trainer's callback protocol ---------------------------------------------------

    def on_train_begin(self, trainer) -> None:
        self.reset()
        if self.log is None:
            self.log = trainer.log
        self._before = _weights(trainer.network.params, copy=True)

    def on_step_end(self, trainer, step: int, loss: float, grads) -> None:
        # The fast path of nearly every step: one comparison is false for a NaN loss as well as
        # for a diverged one, no copy waits to measure this step's update, and this is neither
        # a full check's step nor the one before it.
        seen = self._seen + 1
        phase = seen % self.every
        if loss <= self._limit and self._before is None and 0 < phase < self.every - 1:
            self._seen, self._step = seen, step
            self._losses.append(loss)
            return
        # the Trainer's loss was computed before this step's update (loss_and_gradient)
        rate = getattr(trainer.optimizer, "lr", None)
        # a schedule that takes the rate below where it started (a cosine's last steps reach 0)
        # makes the updates small on purpose: no rate to blame for tiny steps then
        decayed = trainer.schedule is not None and rate is not None and rate < trainer.base_lr
        self._rate = None if decayed else rate
        stop = self._check(trainer.network, loss, grads, None, step, loss_first=True)
        if stop is not None:
            trainer.stop(stop.message)

    # -- the checks ------------------------------------------------------------------------

    def check_step(
        self,
        network,
        loss: float,
        grads: Mapping | None = None,
        *,
        learning_rate: float | None = None,
        step: int | None = None,
    ) -> Finding | None:
        """Check one step, after the update. Returns the finding that should stop training
        (and records it as `stopped_by`), or None to go on.

        network: the object with `params`, or a dict of the arrays themselves ({"W1": W1,
        ...}; it may be built anew at each call, for loops that rebind W1 = W1 - lr * dW1);
        loss: this step's loss (a float); grads: this step's gradients, keyed like the params or
        in the learner's own spelling (dW1, grad_W1, W1_grad); learning_rate: the factor of the
        plain SGD step W -= learning_rate * dW, which lets the first step be measured without
        a copy of the weights before it; step: the step's number (default: counted from 1).
        """
        self._rate = learning_rate
        return self._check(network, loss, grads, learning_rate, step, loss_first=False)

    def _check(self, network, loss, grads, learning_rate, step, *, loss_first) -> Finding | None:
        self._seen += 1
        self._step = self._seen if step is None else int(step)
        params = _params_of(network)
        if not math.isfinite(loss):
            return self._stop_non_finite(params, float(loss), grads, loss_first)
        loss = float(loss)
        aligned = align_gradients(params, grads) if grads is not None else {}
        copied = self._before is not None
        too_large = self._measure_update(params, aligned, learning_rate)
        self._losses.append(loss)
        if self._start is None:
            # the first loss is the reference: a run that diverges does so within a few steps,
            # before any average of them would mean anything
            self._start = loss
            self._limit = WATCH_DIVERGED_FACTOR * max(loss, WATCH_LOSS_FLOOR)
        elif loss > self._limit:
            return self._stop(self._rise(loss, self._step))
        if too_large is not None:
            return self._stop(too_large)
        if self._seen == 1 or self._seen % self.every == 0:
            stop = self._full_check(network)
            if stop is not None:
                return self._stop(stop)
        if (self._seen + 1) % self.every == 0 or (self._seen == 1 and not copied):
            # the weights before the next measured step: before the next full check's, or, in a
            # learner's loop whose first step had no copy, before the second
            self._before = _weights(params, copy=True)
        return None

    def _measure_update(self, params, grads, learning_rate) -> Finding | None:
        """Note the weight matrices whose update is larger than themselves; return the finding
        that stops the run if one is more than WATCH_STOP_UPDATE_RATIO times their size."""
        before, self._before = self._before, None
        if before is None and not (self._seen == 1 and grads and learning_rate is not None):
            return None
        dot = update_norm = grad_norm = 0.0
        worst: tuple[float, str, dict] | None = None
        largest: tuple[float, str, dict] | None = None
        sloped = False  # whether the loss had a slope to follow at all
        for name, W in _weights(params).items():
            if before is not None:
                if name not in before or before[name].shape != W.shape:
                    continue
                old = before[name]
                size = rms(old)
                update = np.subtract(W, old, out=old)  # the copy is ours to reuse
                update_rms = rms(update)
                g = grads.get(name)
                if g is not None and np.shape(g) == W.shape:
                    dot += float(np.vdot(update, g))
                    update_norm += float(np.vdot(update, update))
                    grad_norm += float(np.vdot(g, g))
            elif name in grads and np.shape(grads[name]) == W.shape:
                # The first step of a loop without a copy: the weights before were W + lr * g
                # (after W -= lr * g) or W - lr * g (after W += lr * g, whether the sign is
                # flipped or g is minus the gradient). The smaller candidate is the real one:
                # for an update u larger than the weights b, the other, b + 2u, is always
                # larger than b; for a smaller one both give nearly the same ratio.
                step = learning_rate * np.asarray(grads[name])
                size = min(rms(W + step), rms(W - step))
                update_rms = rms(step)
            else:
                continue
            # floored at Xavier's scale, as in examine: small initial weights are not exploding
            ratio = update_rms / max(size, 1 / math.sqrt(max(W.shape[0], 1)))
            if largest is None or ratio > largest[0]:
                largest = (ratio, str(name), dict(update_ratio=ratio))
            sloped = sloped or bool(np.any(grads.get(name, 0)))
            if ratio > EXPLODING_ABOVE:
                evidence = dict(update_ratio=ratio, update_rms=update_rms, weight_rms=size)
                if worst is None or ratio > worst[0]:
                    worst = (ratio, str(name), evidence)
                if ratio <= WATCH_STOP_UPDATE_RATIO:
                    self._note(self._exploding(str(name), evidence))
        if update_norm > 0 and grad_norm > 0:
            self._cosine = dot / math.sqrt(update_norm * grad_norm)
            self._cosine_step = self._step
            self._cosine_exploding = worst is not None
        if worst is not None and worst[0] > WATCH_STOP_UPDATE_RATIO:
            return self._exploding(worst[1], worst[2])
        if largest is not None and self._rate and sloped and largest[0] < WATCH_TINY_UPDATE_RATIO:
            # a gradient, yet even the weights that moved most moved by almost nothing (or not
            # at all: float32 rounds W - 1e-30 * g back to W): the rate is the cause
            self._note(
                self._finding(
                    "learning-rate-too-low",
                    WARNING,
                    "learning_rate",
                    "update",
                    learning_rate=float(self._rate),
                    step=self._step,
                    weights=largest[1],
                    **largest[2],
                )
            )
        return None

    def _full_check(self, network) -> Finding | None:
        self._activity(network)
        if self._seen < 2 or not self._start:
            return None
        recent = float(np.mean(self._losses))
        if recent > WATCH_ROSE_FACTOR * self._start and self._climbs():
            return self._climbing(recent, self._step)
        if not self._stall_judged and self._seen >= WATCH_STALL_STEPS:
            self._stall_judged = True
            decrease = (self._start - recent) / abs(self._start)
            if decrease < WATCH_STALL_DECREASE:
                self._note(
                    self._finding(
                        "loss-stalled",
                        WARNING,
                        "loss",
                        loss_start=self._start,
                        loss_now=recent,
                        decrease=decrease,
                        step=self._step,
                    )
                )
        return None

    def _climbs(self) -> bool:
        """Whether the latest measured update went up the gradient. An update larger than the
        weights explains a rising loss whatever its direction, and the learners who write the
        error as (target - output) pass the negative gradient: only a rising loss tells a
        climbing update from their correct `W += lr * dW`, which is why every verdict of a
        flipped sign also needs the loss to have risen."""
        return (
            self._cosine is not None
            and self._cosine > WATCH_UPHILL_COSINE
            and not self._cosine_exploding
        )

    def _rise(self, loss: float, step: int) -> Finding:
        """The finding for a loss that rose to `loss` by `step`: updates that climb, or steps
        too large."""
        if self._climbs():
            return self._climbing(loss, step)
        return self._finding(
            "learning-rate-too-high",
            ERROR,
            "loss",
            "training",
            loss_start=self._start,
            loss_now=loss,
            step=step,
        )

    def _climbing(self, loss: float, step: int) -> Finding:
        return self._finding(
            "update-sign-flipped",
            ERROR,
            "update",
            "training",
            cosine=self._cosine,
            measured_at=self._cosine_step,
            loss_start=self._start,
            loss_now=loss,
            step=step,
        )

    def _exploding(self, subject: str, evidence: dict) -> Finding:
        return self._finding(
            "exploding-gradient", ERROR, subject, "training", step=self._step, **evidence
        )

    def _activity(self, network) -> None:
        for subject, kind, values in _layer_caches(network):
            if kind == "fired":
                found = dead_units(values)
                if found is not None:
                    severity, evidence = found
                    finding = self._finding(
                        "dead-units", severity, subject, **evidence, step=self._step
                    )
                    self._note(finding)
            else:
                out = np.clip(values.astype(np.float64), 1e-12, 1 - 1e-12)
                a = np.log(out) - np.log1p(-out)
                fraction = flat_fraction("sigmoid", a)
                if fraction >= SATURATED_WARNING:
                    self._note(
                        self._finding(
                            "activations-saturated",
                            ERROR if fraction >= SATURATED_ERROR else WARNING,
                            subject,
                            fraction=fraction,
                            activation="sigmoid",
                            mean_abs_preactivation=float(np.mean(np.abs(a))),
                            step=self._step,
                        )
                    )

    def _stop_non_finite(self, params, loss: float, grads, loss_first: bool) -> Finding:
        """Stop at a non-finite loss, naming the array where the NaN or Inf appeared first."""
        # In the order the step made them: a loop that takes the loss after its update
        # computed the gradients (backpropagation: the last layer's first) from weights whose
        # loss was still finite, then the weights from them; the Trainer's loss was computed
        # before the update, from weights that were already broken.
        grad_arrays = []
        for name in reversed(list(params)):
            key = gradient_key(name, grads) if grads is not None else None
            if key is not None:
                grad_arrays.append((f"grads[{key!r}]", grads[key]))
        param_arrays = [(f"params[{name!r}]", value) for name, value in params.items()]
        ordered = param_arrays + grad_arrays if loss_first else grad_arrays + param_arrays
        broken = []
        for place, value in ordered:
            finite = np.isfinite(value)
            if not np.all(finite):
                broken.append((place, int(finite.size - np.count_nonzero(finite)), finite.size))
        finite_weights = [
            np.max(np.abs(value[np.isfinite(value)]))
            for value in map(np.asarray, params.values())
            if np.any(np.isfinite(value))
        ]
        evidence: dict = dict(loss=str(loss), step=self._step)
        if not broken:
            variant = "training-loss"
        else:
            first, count, size = broken[0]
            where = ", ".join(place for place, _, _ in broken)
            evidence.update(first=first, count=count, size=size, where=where)
            variant = "training" if finite_weights else "training-all"
        if finite_weights:
            evidence["largest_weight"] = float(max(finite_weights))
        non_finite = self._finding("non-finite", ERROR, "loss", variant, **evidence)
        last = self._losses[-1] if self._losses else None
        if last is not None and self._start is not None and last > WATCH_ROSE_FACTOR * self._start:
            # the loss climbed before it broke: that, not the NaN, is the finding to act on
            self.findings.append(non_finite)
            return self._stop(self._rise(last, self._step - 1))
        return self._stop(non_finite)

    # -- bookkeeping -----------------------------------------------------------------------

    def _finding(self, code, severity, subject, variant="", **evidence) -> Finding:
        return make_finding(code, severity, subject, variant, self.lang, **evidence)

    def _stop(self, finding: Finding) -> Finding:
        self.findings.append(finding)
        self.stopped_by = finding
        return finding

    def _note(self, finding: Finding) -> None:
        """Record a finding and log it, the first time its code is seen for its subject."""
        key = (finding.code, finding.subject)
        if key in self._reported:
            return
        self._reported.add(key)
        self.findings.append(finding)
        if self.log is not None:
            label = translate(SEVERITY_LABELS[finding.severity], finding.lang)
            self.log(
                translate(N_("doctor: {severity}: {message}"), finding.lang).format(
                    severity=label, message=finding.message
                )
            )

    def __repr__(self) -> str:
        return f"TrainingWatcher(every={self.every}, findings={len(self.findings)})"


def _params_of(network) -> Mapping:
    """The arrays of `network`: a dict of them as given, or the network's `params`."""
    if isinstance(network, Mapping):
        return network
    try:
        return network.params
    except AttributeError:
        raise TypeError(
            f"the watcher reads a network's params, but {type(network).__name__} has none: "
            'pass the network, or a dict of its arrays ({"W1": W1, "b1": b1, ...}).'
        ) from None


def _weights(params: Mapping, copy: bool = False) -> dict[str, np.ndarray]:
    """The weight matrices among params (2-D or more, not named like a bias)."""
    out = {}
    for name, value in params.items():
        if isinstance(value, np.ndarray) and value.ndim >= 2:
            if isinstance(name, str) and BIAS_NAME.match(name):
                continue
            out[name] = value.copy() if copy else value
    return out


def _layer_caches(network):
    """(subject, "fired" | "sigmoid", array) for each activation layer's cache of the last
    forward pass: which ReLU units fired, the sigmoid outputs."""
    layers = getattr(network, "layers", None)
    if isinstance(layers, dict):
        layers = list(layers.values())
    if not isinstance(layers, (list, tuple)):
        return
    hidden = 0
    weight = None  # the name of the weight matrix feeding the next activation
    for layer in layers:
        if isinstance(layer, Affine):
            weight = layer.param_names[0]
        cache = _activation_cache(layer)
        if cache is None:
            continue
        hidden += 1
        kind, array = cache
        if isinstance(array, np.ndarray) and array.ndim == 2:
            yield weight or f"W{hidden}", kind, array


def _activation_cache(layer) -> tuple[str, np.ndarray | None] | None:
    """("fired", which units fired) for a ReLU, ("sigmoid", its outputs) for a Sigmoid, from
    the last forward pass; None for any other layer. digitlab's layers declare these caches
    (`ReLU.mask` is x > 0, `Sigmoid.out`); a learner's copy of the book's Relu (whose mask is
    x <= 0) or Sigmoid may keep them or not."""
    if isinstance(layer, ReLU):
        return "fired", layer.mask
    if isinstance(layer, Sigmoid):
        return "sigmoid", layer.out
    name = type(layer).__name__
    if name == "Relu":
        mask = getattr(layer, "mask", None)
        is_mask = isinstance(mask, np.ndarray) and mask.dtype == bool
        return "fired", ~mask if is_mask else None
    if name == "Sigmoid":
        return "sigmoid", getattr(layer, "out", None)
    return None

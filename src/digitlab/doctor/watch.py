"""Watching a training run: the doctor's cheap checks, step by step, and a stop with a reason.

Every step costs one comparison of the loss: non-finite, or above WATCH_DIVERGED_FACTOR times
its starting level, ends the run with the finding that explains it (`learning-rate-too-high`,
`non-finite`) instead of training on NaN. Every WATCH_EVERY steps the watcher also measures the
update/weight ratio of each weight matrix (from the weights before and after the step, so any
optimizer), the saturated and dead units of the forward pass the network just made (read from
its layers' caches: digitlab's layers and the book's `Relu` / `Sigmoid`), and whether the loss
has stalled. Those are recorded as findings and logged once, without stopping the run.

digitlab's Trainer adds a watcher by default (`Trainer(..., watch=False)` to leave it out). A
learner's own loop calls it after each update:

    watcher = TrainingWatcher()
    for i in range(iters_num):
        grads = network.gradient(x_batch, t_batch)
        for key in grads:
            network.params[key] -= learning_rate * grads[key]
        loss = network.loss(x_batch, t_batch)
        if stop := watcher.check_step(network, loss, grads, learning_rate=learning_rate):
            print(stop.message)
            break
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

import numpy as np

from digitlab.doctor.anatomy import BIAS_NAME
from digitlab.doctor.context import rms
from digitlab.doctor.findings import ERROR, SEVERITY_LABELS, WARNING, Finding, make_finding
from digitlab.doctor.forward import flat_fraction
from digitlab.doctor.thresholds import (
    DEAD_UNITS_ERROR,
    DEAD_UNITS_MIN_SAMPLES,
    DEAD_UNITS_WARNING,
    EXPLODING_ABOVE,
    SATURATED_ERROR,
    SATURATED_WARNING,
    WATCH_DIVERGED_FACTOR,
    WATCH_EVERY,
    WATCH_LOSS_FLOOR,
    WATCH_STALL_DECREASE,
    WATCH_STALL_STEPS,
)
from digitlab.i18n import N_, translate
from digitlab.nn.layers import Affine, ReLU, Sigmoid

#: steps whose mean loss is the current level when judging a stall
RECENT_STEPS = 50


class TrainingWatcher:
    """The doctor's checks during training; a callback for digitlab's Trainer, or called
    directly from a learner's loop (`check_step`).

    Args:
        every: steps between the fuller checks (update/weight ratio, saturation, dead units,
            stall); the loss is checked at every step.
        lang: language of the findings ("en", "zh"; None: the current language).
        log: where to write a line for each new warning (None: nowhere); the Trainer passes its
            own log.

    Attributes:
        findings: everything found so far, in order.
        stopped_by: the finding that ended the run, or None.
    """

    def __init__(
        self,
        *,
        every: int = WATCH_EVERY,
        lang: str | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.every = max(1, int(every))
        self.lang = lang
        self.log = log
        self.reset()

    def reset(self) -> None:
        """Forget the run so far (called at the start of each fit)."""
        self.findings: list[Finding] = []
        self.stopped_by: Finding | None = None
        self._step = 0
        #: the latest losses (finite), enough to judge a stall
        self._losses: deque[float] = deque(maxlen=RECENT_STEPS)
        self._start: float | None = None
        self._limit = -math.inf  # until the first loss is seen: every step takes the slow path
        self._before: dict[str, np.ndarray] | None = None
        self._reported: set[tuple[str, str]] = set()
        self._stall_judged = False

    # -- the Trainer's callback protocol ---------------------------------------------------

    def on_train_begin(self, trainer) -> None:
        self.reset()
        if self.log is None:
            self.log = getattr(trainer, "log", None)

    def on_step_end(self, trainer, step: int, loss: float, grads) -> None:
        # The fast path of nearly every step: one comparison is false for a NaN loss as well as
        # for a diverged one, and this is neither a full check's step nor the one before it.
        phase = step % self.every
        if loss <= self._limit and 0 < phase < self.every - 1:
            self._step = step
            self._losses.append(loss)
            return
        stop = self.check_step(trainer.network, loss, grads, step=step)
        if stop is not None:
            trainer.stop(stop.message)

    # -- the checks ------------------------------------------------------------------------

    def check_step(
        self,
        network,
        loss: float,
        grads: dict | None = None,
        *,
        learning_rate: float | None = None,
        step: int | None = None,
    ) -> Finding | None:
        """Check one step, after the update. Returns the finding that should stop training
        (and records it as `stopped_by`), or None to go on.

        network: the object with `params`; loss: this step's loss; grads: this step's gradient
        (dict like params), used with `learning_rate` for the update/weight ratio where given.
        """
        self._step = self._step + 1 if step is None else int(step)
        if not math.isfinite(loss):
            return self._stop_non_finite(network, float(loss), grads)
        loss = float(loss)
        self._losses.append(loss)
        if self._start is None:
            # the first loss is the reference: a run that diverges does so within a few steps,
            # before any average of them would mean anything
            self._start = loss
            self._limit = WATCH_DIVERGED_FACTOR * max(loss, WATCH_LOSS_FLOOR)
        elif loss > self._limit:
            return self._stop(
                self._finding(
                    "learning-rate-too-high",
                    ERROR,
                    "loss",
                    "training",
                    loss_start=self._start,
                    loss_now=loss,
                    step=self._step,
                )
            )
        if self._step % self.every == 0:
            self._full_check(network, grads, learning_rate)
            self._before = None
        if learning_rate is None and (self._step + 1) % self.every == 0:
            # the weights before the next full check's step: its update is their difference
            self._before = _weights(network.params, copy=True)
        return None

    def _full_check(self, network, grads, learning_rate) -> None:
        self._update_ratios(network, grads, learning_rate)
        self._activity(network)
        if not self._stall_judged and self._step >= WATCH_STALL_STEPS and self._start:
            self._stall_judged = True
            recent = float(np.mean(self._losses))
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

    def _update_ratios(self, network, grads, learning_rate) -> None:
        weights = _weights(network.params)
        for name, W in weights.items():
            if learning_rate is not None and grads is not None and name in grads:
                update, size = learning_rate * rms(grads[name]), rms(W)
            elif self._before is not None and name in self._before:
                before = self._before[name]
                size = rms(before)
                update = rms(np.subtract(W, before, out=before))  # the copy is ours to reuse
            else:
                continue
            # floored at Xavier's scale, as in examine: small initial weights are not exploding
            scale = max(size, 1 / math.sqrt(max(W.shape[0], 1)))
            ratio = update / scale
            if ratio > EXPLODING_ABOVE:
                self._note(
                    self._finding(
                        "exploding-gradient",
                        ERROR,
                        str(name),
                        "training",
                        update_ratio=ratio,
                        step=self._step,
                    )
                )

    def _activity(self, network) -> None:
        for subject, kind, values in _layer_caches(network):
            if kind == "fired":
                samples = values.shape[0]
                if samples < DEAD_UNITS_MIN_SAMPLES:
                    continue
                dead = ~np.any(values, axis=0)
                fraction = float(dead.mean())
                if fraction >= DEAD_UNITS_WARNING:
                    self._note(
                        self._finding(
                            "dead-units",
                            ERROR if fraction >= DEAD_UNITS_ERROR else WARNING,
                            subject,
                            fraction=fraction,
                            dead=int(dead.sum()),
                            units=int(dead.size),
                            samples=samples,
                            step=self._step,
                        )
                    )
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

    def _stop_non_finite(self, network, loss: float, grads) -> Finding:
        places = [
            f"params[{name!r}]"
            for name, value in network.params.items()
            if not np.all(np.isfinite(value))
        ]
        if grads is not None:
            places += [
                f"grads[{name!r}]" for name, g in grads.items() if not np.all(np.isfinite(g))
            ]
        last = self._losses[-1] if self._losses else None
        with np.errstate(all="ignore"):
            magnitudes = [
                np.nanmax(np.abs(value)) if np.size(value) and not np.all(np.isnan(value)) else 0
                for value in network.params.values()
            ]
        non_finite = self._finding(
            "non-finite",
            ERROR,
            "loss",
            "training",
            loss=str(loss),
            step=self._step,
            largest_weight=float(max(magnitudes, default=0.0)),
            where=", ".join(places) or "loss",
        )
        if last is not None and self._start is not None and last > 1.5 * self._start:
            # the loss climbed before it broke: the steps were too large
            self.findings.append(non_finite)
            return self._stop(
                self._finding(
                    "learning-rate-too-high",
                    ERROR,
                    "loss",
                    "training",
                    loss_start=self._start,
                    loss_now=last,
                    step=self._step - 1,
                )
            )
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


def _weights(params, copy: bool = False) -> dict[str, np.ndarray]:
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
        name = type(layer).__name__
        if isinstance(layer, Affine):
            weight = layer.param_names[0]
        if isinstance(layer, ReLU) or name == "Relu":
            hidden += 1
            mask = getattr(layer, "mask", None)
            if isinstance(mask, np.ndarray) and mask.ndim == 2:
                # digitlab's mask is x > 0; the book's Relu keeps x <= 0
                fired = mask if isinstance(layer, ReLU) else ~mask
                yield weight or f"W{hidden}", "fired", fired
        elif isinstance(layer, Sigmoid) or name == "Sigmoid":
            hidden += 1
            out = getattr(layer, "out", None)
            if isinstance(out, np.ndarray) and out.ndim == 2:
                yield weight or f"W{hidden}", "sigmoid", out

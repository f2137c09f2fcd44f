"""Learning-rate schedules: step decay, cosine annealing, and a linear warm-up before either.

A schedule maps training progress to a factor of the optimizer's learning rate:
`schedule(epoch) -> factor`, where `epoch` is a float — the number of epochs completed before the
step, 0 at the first step, 1.5 halfway through the second epoch — so a schedule is written in
epochs and needs to know nothing of the batch size. Before every step the Trainer sets
`optimizer.lr = base_lr * schedule(epoch)`, where base_lr is the lr the optimizer was made with.

>>> Warmup(Cosine(epochs=10), epochs=1)
Warmup(Cosine(epochs=10, final=0), epochs=1, start=0.1)
"""

from __future__ import annotations

import math

from digitlab._validate import number
from digitlab.errors import ConfigError


class Schedule:
    """Base class: `__call__(epoch: float) -> float`, the factor of the base learning rate."""

    def __call__(self, epoch: float) -> float:
        raise NotImplementedError


class Constant(Schedule):
    """Factor 1 throughout: the base learning rate (what a warm-up leads to, when alone)."""

    def __call__(self, epoch: float) -> float:
        return 1.0

    def __repr__(self) -> str:
        return "Constant()"


class StepDecay(Schedule):
    """Multiply the learning rate by `gamma` every `every` epochs: gamma ** floor(epoch / every).

    Args:
        every: epochs between decays (may be fractional).
        gamma: factor applied at each decay, in (0, 1]; 0.1 is the classic choice.
    """

    def __init__(self, every: float, gamma: float = 0.1) -> None:
        self.every = number("every", every, low=0, low_open=True, example="5 (epochs)")
        self.gamma = number("gamma", gamma, low=0, high=1, low_open=True, example="0.1")

    def __call__(self, epoch: float) -> float:
        return self.gamma ** math.floor(epoch / self.every)

    def __repr__(self) -> str:
        return f"StepDecay(every={self.every:g}, gamma={self.gamma:g})"


class Cosine(Schedule):
    """Cosine annealing from 1 down to `final` over `epochs`, then `final` (Loshchilov & Hutter):
    final + (1 - final) · (1 + cos(π · epoch / epochs)) / 2.

    Args:
        epochs: length of the descent, usually the run's number of epochs.
        final: the factor reached at the end, in [0, 1].
    """

    def __init__(self, epochs: float, final: float = 0.0) -> None:
        self.epochs = number("epochs", epochs, low=0, low_open=True, example="10")
        self.final = number("final", final, low=0, high=1, example="0.0")

    def __call__(self, epoch: float) -> float:
        progress = min(epoch / self.epochs, 1.0)
        return self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * progress))

    def __repr__(self) -> str:
        return f"Cosine(epochs={self.epochs:g}, final={self.final:g})"


class Warmup(Schedule):
    """A linear warm-up over the first `epochs`, then `schedule`, shifted to start after it.

    The factor rises linearly from `start` to `schedule(0)` during the warm-up (large first
    steps from random weights can throw a network, and Adam's first moments are noisy); after
    it, the factor is `schedule(epoch - epochs)`.

    Args:
        schedule: what follows the warm-up (Cosine(...), StepDecay(...)); None: Constant().
        epochs: length of the warm-up (may be fractional, e.g. 0.5).
        start: the factor of the first step, in [0, 1].
    """

    def __init__(
        self, schedule: Schedule | None = None, epochs: float = 1.0, start: float = 0.1
    ) -> None:
        if schedule is not None and not callable(schedule):
            raise ConfigError(
                f"schedule={schedule!r} must be a schedule such as Cosine(epochs=10), or None "
                "for a constant learning rate after the warm-up."
            )
        self.schedule = schedule if schedule is not None else Constant()
        self.epochs = number("epochs", epochs, low=0, low_open=True, example="1")
        self.start = number("start", start, low=0, high=1, example="0.1")

    def __call__(self, epoch: float) -> float:
        if epoch >= self.epochs:
            return self.schedule(epoch - self.epochs)
        return (self.start + (1.0 - self.start) * epoch / self.epochs) * self.schedule(0.0)

    def __repr__(self) -> str:
        return f"Warmup({self.schedule!r}, epochs={self.epochs:g}, start={self.start:g})"

"""`digitlab gradcheck PROGRAM.py`: the gradients a learner's program computes, against central
differences of the loss its backprop differentiates.

The program runs under watch (see `tracer`) for a few weight updates; the network is recovered
from its arrays (`model.identify`). In one step, the learner's gradient of each weight is the
array their update applied (`dW1`, `grads['W1']`, `back_prop()[0]`: the one the change is a
multiple of), else the change itself divided by their learning rate. Each is compared with
central differences of the loss, the way `digitlab.gradients.check` compares a network's
`gradient(x, t)`: coordinate by coordinate, worst ones shown.

The loss is the one the learner's backprop differentiates (`Recovered`: cross-entropy of a
softmax, squared or binary cross-entropy error of a sigmoid, whichever their update follows
best), averaged over the batch, or summed where their gradient is the sum (N times the mean).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from digitlab.doctor.program.analysis import applied_gradient, judge_step, step_batch
from digitlab.doctor.program.model import Model, Recovered
from digitlab.doctor.program.tracer import ProgramError, Recording, Step, run
from digitlab.gradients.check import GradientCheck, check
from digitlab.i18n import _

#: weight updates watched: the first may be recorded before the network was recognized
CHECK_STEPS = 3
#: the step of the central differences
KINK_SAFE_H = 1e-7


class ProgramGradients:
    """The learner's network as `gradients.check` reads one: params by the learner's names (in
    the learner's layout), `loss(x, t)` of the recovered network, `gradient(x, t)` the arrays
    their program applied in one step (x and t are that step's: the arguments are ignored)."""

    def __init__(
        self,
        model: Model,
        network: Recovered,
        values: dict[str, np.ndarray],
        gradients: dict[str, np.ndarray],
        scale: float,
    ) -> None:
        self.model = model
        self.network = network
        self.params = {
            learner: np.array(values[learner], dtype=np.float64)
            for learner in model.canonical().values()
        }
        self.gradients = gradients
        #: 1 for a loss averaged over the batch, N where the learner's gradient is its sum
        self.scale = scale

    def __repr__(self) -> str:
        return repr(self.network)

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        self.network.params = {
            book: self.model.to_rows(learner, self.params[learner])
            for book, learner in self.model.canonical().items()
        }
        return self.scale * self.network.loss(x, t)

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        return dict(self.gradients)


def check_program(
    path: str | Path,
    args: list[str] | tuple[str, ...] = (),
    *,
    seconds: float = 60.0,
    seed: int = 0,
) -> tuple[GradientCheck, dict[str, str]]:
    """Run the program for a few updates and check the gradients of one step. Returns the check
    (rows by the learner's weight names) and, for each weight, where its gradient came from
    (`back_prop()[0]`, `grads['W1']`, or the update at train.py:62 divided by `lr`)."""
    recording = run(Path(path), list(args), steps=CHECK_STEPS, seconds=seconds, seed=seed)
    model = recording.model
    if model is None:
        raise ProgramError(
            _(
                "no network was found in {program}: gradcheck needs a program that updates its "
                "weights (W -= lr * dW) within {seconds:g} s."
            ).format(program=Path(path).name, seconds=seconds)
        )
    for step in recording.steps:
        found = _step_gradients(recording, model, step)
        if found is not None:
            return found
    raise ProgramError(
        _(
            "no update of {program}'s weights could be checked: none of its first {steps} steps "
            "had a batch with its targets beside it."
        ).format(program=Path(path).name, steps=len(recording.steps) or CHECK_STEPS)
    )


def _step_gradients(recording: Recording, model: Model, step: Step):
    batch = step_batch(recording, model, step)
    if batch is None:
        return None
    x, t = batch
    verdict = judge_step(model, step, x, t)
    if verdict is None:
        return None
    gradients, sources = {}, {}
    for name, update in step.updates.items():
        found = applied_gradient(step, update)
        if found is None and update.rate:
            found = (
                (update.before - update.after) / update.rate,
                _("the update at {place} / {rate}").format(
                    place=f"{Path(update.file).name}:{update.line}", rate=update.rate_name
                ),
            )
        if found is not None:
            gradients[name], sources[name] = found
    if not gradients:
        return None
    network = verdict["network"]
    values = {**model.arrays, **{n: u.before for n, u in step.updates.items()}}
    network = Recovered(model, values, network.loss_kind, network.output)
    scale = _scale(model, network, gradients, x, t)
    adapter = ProgramGradients(model, network, values, gradients, scale)
    # h smaller than the book's 1e-4: a batch of 100 has pre-activations within 1e-5 of a
    # ReLU's kink often enough to fail a correct gradient; float64 losses leave room for it
    return check(adapter, x, t, h=KINK_SAFE_H), sources


def _scale(model, network: Recovered, gradients: dict, x, t) -> float:
    """N where the learner's gradients are N times those of the mean loss (a sum over the batch,
    divided by N in their update), else 1."""
    truth = network.gradient(x, t)
    canonical = {learner: book for book, learner in model.canonical().items()}
    dot = sq = 0.0
    for name, g in gradients.items():
        exact = model.to_rows(name, g)
        reference = truth[canonical[name]].reshape(exact.shape)
        dot += float(np.sum(exact * reference))
        sq += float(np.sum(reference**2))
    n = len(x)
    if sq > 0 and n > 1 and n / 2 <= dot / sq <= 2 * n:
        return float(n)
    return 1.0

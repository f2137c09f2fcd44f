"""Hooks into a training run: watch each step and epoch, and stop the run with a reason.

A callback is any object with some of these methods (each optional):

    on_train_begin(trainer)                       before the first step of fit
    on_step_end(trainer, step, loss, grads)       after each optimizer update; step counts from
                                                  1 over the whole run, grads are this step's
    on_epoch_end(trainer, epoch)                  after the epoch's accuracies are recorded
    on_train_end(trainer)                         when fit ends, stopped early or not

Inside any of them, `trainer.stop(reason)` ends the run after the current step; the reason is
kept in `History.stopped` and logged. The doctor's training watcher and early stopping are
callbacks; a learner's own loop can call the same methods.
"""

from __future__ import annotations

from collections.abc import Iterable


def call(callbacks: Iterable[object], method: str, *args) -> None:
    """Call `method(*args)` on every callback that has it."""
    for callback in callbacks:
        hook = getattr(callback, method, None)
        if hook is not None:
            hook(*args)

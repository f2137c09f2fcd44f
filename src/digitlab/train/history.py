"""The record of a training run: per-step loss, per-epoch accuracies."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from digitlab import atomic
from digitlab.display import Displayed
from digitlab.train.curves import history_figure


@dataclass
class History(Displayed):
    """What a run measured, appended to as it trains.

    loss: the mini-batch loss of every step; train_acc / test_acc: accuracy after each epoch
    (train_acc on at most Trainer.train_accuracy_samples training samples, every k-th one;
    test_acc empty when no test set was given); epoch_loss: mean step loss of each epoch;
    seconds: training time of each epoch; val_acc / val_loss: on the validation set after each
    epoch (empty without one); lr: the learning rate of each epoch's last step.
    """

    loss: list[float] = field(default_factory=list)
    epoch_loss: list[float] = field(default_factory=list)
    train_acc: list[float] = field(default_factory=list)
    test_acc: list[float] = field(default_factory=list)
    steps_per_epoch: int = 0
    seconds: list[float] = field(default_factory=list)
    #: why the run ended early (a callback's reason), or None if it ran all its epochs
    stopped: str | None = None
    val_acc: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    #: the epoch (from 1) whose weights EarlyStopping kept, or None
    best_epoch: int | None = None

    @property
    def epochs(self) -> int:
        return len(self.train_acc)

    def to_dict(self) -> dict:
        return asdict(self)

    def save(self, path: str | Path) -> None:
        """Write the history as JSON, atomically: a run's history.json is read while it trains."""
        atomic.write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")

    @classmethod
    def load(cls, path: str | Path) -> History:
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))

    def plot(self):
        """The loss per step beside the accuracy per epoch: a matplotlib Figure."""
        return history_figure(self)

    def __repr__(self) -> str:
        last = f", test {self.test_acc[-1]:.1%}" if self.test_acc else ""
        train = f", train {self.train_acc[-1]:.1%}" if self.train_acc else ""
        return f"History({self.epochs} epochs, {len(self.loss)} steps{train}{last})"

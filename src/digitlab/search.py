"""Random search for hyperparameters, as *Deep Learning from Scratch* does by hand in chapter 6.

Each trial draws a learning rate and a weight decay log-uniformly (their good values span
orders of magnitude, so every decade gets as many trials), a hidden-layer size from a list and
a dropout rate uniformly, trains a short run, and scores it on a validation set held out of the
training data. The test set is never seen: choosing settings by their test accuracy would make
that accuracy an optimistic guess of how the network does on new digits. Random search rather
than a grid: with a budget of N trials, a grid tries only √N values of each setting, random
search N (Bergstra & Bengio, 2012).

    result = random_search(x_train, t_train, TrainConfig(epochs=5, validation=0.2),
                           SearchSpace(), trials=20, classes=10)
    print(result.table())
    result.best.config      # a TrainConfig to train fully

The same seed (`base.seed`) draws the same trials and trains them the same way.
"""

from __future__ import annotations

import json
import math
import time
import unicodedata
from dataclasses import dataclass

import numpy as np
from tqdm.auto import tqdm

from digitlab import atomic
from digitlab._validate import number, whole
from digitlab.config import (
    DEFAULT_LR,
    TrainConfig,
    build_network,
    build_trainer,
    split_validation,
)
from digitlab.errors import ConfigError
from digitlab.i18n import _

#: significant digits of the drawn numbers: enough to tell trials apart, short enough to read
#: and to type into `digitlab train`
DIGITS = 3


def lr_range(optimizer: str) -> tuple[float, float]:
    """The learning rates to search for `optimizer` by default: from its default lr / 50 to
    four times it (0.01 to 2 for SGD), a range that holds both too small and too large steps."""
    lr = DEFAULT_LR[optimizer]
    return (_rounded(lr / 50), _rounded(lr * 4))


@dataclass(frozen=True)
class SearchSpace:
    """Where each trial's settings are drawn from. A range (low, high) with low == high fixes
    the setting; weight_decay (0, 0) turns it off.

    lr: (low, high), log-uniform, > 0. weight_decay: (low, high), log-uniform, > 0, or (0, 0).
    hidden: sizes of the one hidden layer to choose among, uniformly. dropout: (low, high),
    uniform, in [0, 1).
    """

    lr: tuple[float, float] = (0.01, 2.0)
    weight_decay: tuple[float, float] = (1e-8, 1e-3)
    hidden: tuple[int, ...] = (50, 100, 200, 400)
    dropout: tuple[float, float] = (0.0, 0.5)

    def __post_init__(self) -> None:
        _check_range("lr", self.lr, low=0, low_open=True, example="0.01,1")
        if tuple(self.weight_decay) != (0, 0):
            _check_range(
                "weight_decay", self.weight_decay, low=0, low_open=True, example="1e-8,1e-3"
            )
        _check_range("dropout", self.dropout, low=0, high=1, high_open=True, example="0,0.5")
        sizes = tuple(self.hidden)
        if not sizes or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in sizes):
            raise ConfigError(
                _("hidden={value!r} must list sizes >= 1 to choose among, e.g. 50,100,200.").format(
                    value=self.hidden
                )
            )

    def sample(self, rng: np.random.Generator) -> dict:
        """One trial's settings, as TrainConfig keys."""
        return {
            "lr": _rounded(_log_uniform(rng, *self.lr)),
            "weight_decay": _rounded(_log_uniform(rng, *self.weight_decay)),
            "hidden": (int(rng.choice(self.hidden)),),
            "dropout": _rounded(rng.uniform(*self.dropout)),
        }

    def to_dict(self) -> dict:
        return {
            "lr": list(self.lr),
            "weight_decay": list(self.weight_decay),
            "hidden": list(self.hidden),
            "dropout": list(self.dropout),
        }


@dataclass(frozen=True)
class Trial:
    """One short run: its settings and how it did on the validation set.

    val_acc, val_loss: of the last epoch (of the best one under early stopping); val_loss is
    None when the run diverged to NaN. stopped: why the run ended early, or None.
    """

    number: int
    config: TrainConfig
    val_acc: float
    val_loss: float | None
    seconds: float
    stopped: str | None = None

    def to_dict(self) -> dict:
        c = self.config
        return {
            "trial": self.number,
            "lr": c.lr,
            "weight_decay": c.weight_decay,
            "hidden": list(c.hidden),
            "dropout": c.dropout,
            "val_acc": self.val_acc,
            "val_loss": self.val_loss,
            "seconds": self.seconds,
            "stopped": self.stopped,
        }


@dataclass(frozen=True)
class SearchResult:
    """Every trial, in the order run, with what they were drawn from."""

    trials: list[Trial]
    space: SearchSpace
    base: TrainConfig
    train_size: int
    validation_size: int

    @property
    def best(self) -> Trial:
        """The trial of the highest validation accuracy (the earliest among equals)."""
        return max(self.trials, key=lambda trial: trial.val_acc)

    def ranked(self) -> list[Trial]:
        """The trials by validation accuracy, best first."""
        return sorted(self.trials, key=lambda trial: -trial.val_acc)

    def table(self) -> str:
        """The trials as a text table, best first."""
        header = [
            _("trial"),
            _("lr"),
            _("weight decay"),
            _("hidden"),
            _("dropout"),
            _("val acc"),
            _("val loss"),
            _("seconds"),
        ]
        rows = [
            [
                str(t.number),
                f"{t.config.lr:.3g}",
                f"{t.config.weight_decay:.3g}",
                ",".join(map(str, t.config.hidden)),
                f"{t.config.dropout:.2f}",
                f"{t.val_acc:.2%}",
                "-" if t.val_loss is None else f"{t.val_loss:.4f}",
                f"{t.seconds:.1f}",
            ]
            for t in self.ranked()
        ]
        widths = [max(_width(row[i]) for row in [header, *rows]) for i in range(len(header))]
        return "\n".join(
            "  ".join(" " * (w - _width(cell)) + cell for cell, w in zip(row, widths, strict=True))
            for row in [header, *rows]
        )

    def to_dict(self) -> dict:
        return {
            "space": self.space.to_dict(),
            "base": self.base.to_dict(),
            "train_size": self.train_size,
            "validation_size": self.validation_size,
            "best": self.best.number,
            "best_config": self.best.config.to_dict(),
            "trials": [trial.to_dict() for trial in self.trials],
        }

    def save(self, path) -> None:
        """Write search.json (atomically)."""
        atomic.write_text(path, json.dumps(self.to_dict(), indent=1) + "\n")


def random_search(
    x: np.ndarray,
    t: np.ndarray,
    base: TrainConfig,
    space: SearchSpace,
    *,
    trials: int,
    classes: int,
    progress: bool | None = None,
) -> SearchResult:
    """Train `trials` short runs with settings drawn from `space`, score them on validation.

    x: (N, D) float training inputs, t: (N,) int labels: training data only, which
    `base.validation` splits into the part trained on and the part scored. base: every other
    setting (optimizer, epochs, batch size, dtype, seed, ...); each trial replaces its lr,
    weight_decay, hidden and dropout. All trials share base.seed, so they differ in their
    settings alone; base.seed also seeds the draws. progress: a bar over the trials (None: on
    a terminal only).
    """
    if not base.validation:
        raise ConfigError(
            _(
                "random search scores each trial on a validation set, but --validation is 0; "
                "use e.g. --validation 0.2."
            )
        )
    count = whole("trials", trials, low=1, example="20")
    rng = np.random.default_rng(base.seed)
    x_fit, t_fit, validation = split_validation(base, x, t)
    done: list[Trial] = []
    bar = tqdm(
        range(1, count + 1),
        desc=_("search"),
        disable=None if progress is None else not progress,
        unit=_("trial"),
    )
    for i in bar:
        config = base.changed(**space.sample(rng))
        network = build_network(config, x.shape[1], classes)
        trainer = build_trainer(config, network, progress=False, log=None)
        start = time.perf_counter()
        history = trainer.fit(x_fit, t_fit, validation=validation)
        seconds = time.perf_counter() - start
        last = (history.best_epoch or history.epochs) - 1
        loss = history.val_loss[last]
        done.append(
            Trial(
                number=i,
                config=config,
                val_acc=history.val_acc[last],
                val_loss=loss if math.isfinite(loss) else None,
                seconds=seconds,
                stopped=history.stopped,
            )
        )
        bar.set_postfix_str(_("best {accuracy:.2%}").format(accuracy=max(t.val_acc for t in done)))
    bar.close()
    return SearchResult(done, space, base, len(t_fit), len(validation[1]))


def _check_range(name: str, ends, *, example: str, **limits) -> None:
    if not (isinstance(ends, (tuple, list)) and len(ends) == 2):
        raise ConfigError(
            _("{name}={value!r} must be a range (low, high), e.g. {example}.").format(
                name=name, value=ends, example=example
            )
        )
    low, high = (number(name, end, example=example, **limits) for end in ends)
    if low > high:
        raise ConfigError(
            _("{name} range {low:g},{high:g} is upside down; write the lower end first.").format(
                name=name, low=low, high=high
            )
        )


def _log_uniform(rng: np.random.Generator, low: float, high: float) -> float:
    """A number between low and high whose logarithm is uniform; 0 for the range (0, 0)."""
    if high == 0:
        return 0.0
    return float(np.exp(rng.uniform(np.log(low), np.log(high))))


def _rounded(value: float) -> float:
    return float(f"{value:.{DIGITS}g}")


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

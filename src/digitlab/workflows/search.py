"""Hyperparameter search on Optuna, as *Deep Learning from Scratch* does by hand in chapter 6.

Each trial draws a learning rate and a weight decay log-uniformly (their good values span
orders of magnitude, so every decade gets as many trials), a hidden-layer size from a list and
a dropout rate uniformly, trains a short run, and scores it on a validation set held out of the
training data. The test set is never seen: choosing settings by their test accuracy would make
that accuracy an optimistic guess of how the network does on new digits.

The draws are Optuna's: `sampler="random"` as the book does it (with a budget of N trials a
grid tries only √N values of each setting, random search N; Bergstra & Bengio, 2012), or
`"tpe"`, which draws more where earlier trials did well. A `pruner` ("median", "hyperband")
stops a trial whose validation accuracy after an epoch is hopeless beside the others'. The
trials live in a study (see digitlab.workflows.study): a journal file in the search folder by
default, so that a search killed half-way resumes where it was, and several processes or
machines can share one search.

    result = search(x_train, t_train, TrainConfig(epochs=5, validation=0.2), SearchSpace(),
                    trials=20, classes=10, sampler="tpe", pruner="median")
    print(result.table())
    result.best.config      # a TrainConfig to train fully

In one process, the same seed (`base.seed`) draws the same trials and trains them the same way.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from digitlab import atomic
from digitlab._validate import number, whole
from digitlab.errors import ConfigError
from digitlab.i18n import _
from digitlab.train.threads import limited
from digitlab.workflows import study
from digitlab.workflows.config import (
    DEFAULT_LR,
    TrainConfig,
    build_network,
    build_trainer,
    split_validation,
)

#: how trials are drawn: as the book does (random), or where earlier trials did well (TPE)
SAMPLERS = ("random", "tpe")
#: how hopeless trials are stopped early: never, below the median of the others at the same
#: epoch, or by successive halving (Hyperband)
PRUNERS = ("none", "median", "hyperband")

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

    def suggest(self, trial) -> dict:
        """One trial's settings, drawn by the study's sampler through `trial` (an
        optuna.Trial), as TrainConfig keys, rounded to DIGITS significant digits."""
        weight_decay = 0.0
        if tuple(self.weight_decay) != (0, 0):
            weight_decay = trial.suggest_float("weight_decay", *self.weight_decay, log=True)
        return {
            "lr": _rounded(trial.suggest_float("lr", *self.lr, log=True)),
            "weight_decay": _rounded(weight_decay),
            "hidden": (int(trial.suggest_categorical("hidden", list(self.hidden))),),
            "dropout": _rounded(trial.suggest_float("dropout", *self.dropout)),
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

    number: from 1, in the order the study made the trials. val_acc, val_loss: of the last
    epoch (of the best one under early stopping); val_loss is None when the run diverged to
    NaN. epochs: how many it trained. stopped: why the run ended early (pruned, diverged, early
    stopping), or None.
    """

    number: int
    config: TrainConfig
    val_acc: float
    val_loss: float | None
    seconds: float
    stopped: str | None = None
    epochs: int = 0

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
            "epochs": self.epochs,
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
    sampler: str = "random"
    pruner: str = "none"

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
            _("epochs"),
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
                str(t.epochs),
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
            "sampler": self.sampler,
            "pruner": self.pruner,
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


def search(
    x: np.ndarray,
    t: np.ndarray,
    base: TrainConfig,
    space: SearchSpace,
    *,
    trials: int,
    classes: int,
    sampler: str = "random",
    pruner: str = "none",
    storage: str | Path | None = None,
    study_name: str = "digitlab-search",
    jobs: int = 1,
    time_limit: float | None = None,
    resume: bool = False,
    progress: bool | None = None,
) -> SearchResult:
    """Train `trials` short runs with settings drawn from `space`, score them on validation.

    x: (N, D) float training inputs, t: (N,) int labels: training data only, which
    `base.validation` splits into the part trained on and the part scored. base: every other
    setting (optimizer, epochs, batch size, dtype, seed, ...); each trial replaces its lr,
    weight_decay, hidden and dropout. sampler: "random" or "tpe"; pruner: "none", "median" or
    "hyperband", judging each trial by its validation accuracy after every epoch.
    storage: where the study lives (a journal file's path or a database URL); None: in memory,
    for this call only. study_name: the study's name there. jobs: trials run at once, each in
    a process of its own with one BLAS thread. time_limit: seconds after which no trial starts.
    resume: the study exists and its earlier processes are gone (see digitlab.workflows.study).
    progress: a bar over the trials (None: on a terminal only).

    All trials share base.seed, so they differ in their settings alone; in one process
    (jobs=1) base.seed also seeds the sampler, so the same call makes the same search.
    Returns every finished trial of the study, this call's and earlier ones'.
    """
    if not base.validation:
        raise ConfigError(
            _(
                "the search scores each trial on a validation set, but --validation is 0; "
                "use e.g. --validation 0.2."
            )
        )
    count = whole("trials", trials, low=1, example="20")
    jobs = whole("jobs", jobs, low=1, example="2")
    _check_choice("sampler", sampler, SAMPLERS)
    _check_choice("pruner", pruner, PRUNERS)
    if jobs > 1 and storage is None:
        raise ConfigError(
            _(
                "--jobs {jobs} needs a storage the processes share; give a folder or --storage."
            ).format(jobs=jobs)
        )
    request = {
        "trials": count,
        "space": space.to_dict(),
        "base": base.to_dict(),
        "sampler": sampler,
        "pruner": pruner,
        "classes": classes,
        "samples": len(t),
    }
    x_fit, t_fit, validation = split_validation(base, x, t)
    plan = _Plan(
        x_fit,
        t_fit,
        validation,
        base,
        space,
        classes,
        sampler,
        pruner,
        storage,
        study_name,
        request,
        time_limit,
    )
    opened = plan.study(seed=base.seed if jobs == 1 else None, resume=resume)
    total = len(study.finished_trials(opened))
    bar = tqdm(
        total=count,
        initial=total,
        desc=_("search"),
        disable=None if progress is None else not progress,
        unit=_("trial"),
    )
    if jobs == 1:
        plan.run(opened, bar=bar, seed=base.seed)
    else:
        _run_processes(plan, jobs, bar)
    bar.close()
    done = [_trial(frozen, base) for frozen in study.finished_trials(opened)]
    return SearchResult(done, space, base, len(t_fit), len(validation[1]), sampler, pruner)


@dataclass
class _Plan:
    """What every worker of one search needs, picklable for a process of its own."""

    x: np.ndarray
    t: np.ndarray
    validation: tuple[np.ndarray, np.ndarray]
    base: TrainConfig
    space: SearchSpace
    classes: int
    sampler: str
    pruner: str
    storage: str | Path | None
    name: str
    request: dict
    time_limit: float | None

    def study(self, seed: int | None, resume: bool = False):
        optuna = study.optuna_module()
        if self.sampler == "tpe":
            sampler = optuna.samplers.TPESampler(seed=seed)
        else:
            sampler = optuna.samplers.RandomSampler(seed=seed)
        pruner = {
            "none": optuna.pruners.NopPruner(),
            # judge from the second epoch on (steps below 2 are warm-up), against 3 finished trials
            "median": optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2),
            "hyperband": optuna.pruners.HyperbandPruner(
                min_resource=1, max_resource=self.base.epochs
            ),
        }[self.pruner]
        storage = None if self.storage is None else study.open_storage(self.storage, resume=resume)
        if storage is None:
            storage = optuna.storages.InMemoryStorage()
        return study.open_study(
            storage, self.name, self.request, sampler=sampler, pruner=pruner, resume=resume
        )

    def run(self, opened, *, bar=None, seed: int | None = None) -> int:
        deadline = None if self.time_limit is None else time.monotonic() + self.time_limit

        def objective(trial) -> float:
            result = self.train(trial)
            if bar is not None:
                bar.update(1)
                bar.set_postfix_str(_("last {accuracy:.2%}").format(accuracy=result))
            return result

        return study.run_queued(opened, objective, deadline=deadline)

    def train(self, trial) -> float:
        """One trial: its settings drawn, trained epoch by epoch with its validation accuracy
        reported (and the trial pruned when the pruner says so); the accuracy it ends with."""
        optuna = study.optuna_module()
        settings = self.space.suggest(trial)
        config = self.base.changed(**settings)
        network = build_network(config, self.x.shape[1], self.classes)
        trainer = build_trainer(config, network, progress=False, log=None)
        reporter = _ReportEachEpoch(trial)
        trainer.callbacks.append(reporter)
        start = time.perf_counter()
        history = trainer.fit(self.x, self.t, validation=self.validation)
        last = (history.best_epoch or history.epochs) - 1
        loss = history.val_loss[last]
        stopped = history.stopped
        if reporter.pruned_after is not None:
            stopped = _("pruned after epoch {epoch}").format(epoch=reporter.pruned_after)
        record = {
            "settings": {**settings, "hidden": list(settings["hidden"])},
            "val_acc": history.val_acc[last],
            "val_loss": loss if math.isfinite(loss) else None,
            "seconds": time.perf_counter() - start,
            "epochs": history.epochs,
            "stopped": stopped,
        }
        for key, value in record.items():
            trial.set_user_attr(key, value)
        if reporter.pruned_after is not None:
            raise optuna.TrialPruned(stopped)
        return record["val_acc"]


class _ReportEachEpoch:
    """Trainer callback: the epoch's validation accuracy to the trial; stop when pruned."""

    def __init__(self, trial) -> None:
        self.trial = trial
        self.pruned_after: int | None = None

    def on_epoch_end(self, trainer, epoch: int) -> None:
        accuracy = trainer.history.val_acc[-1]
        if not math.isfinite(accuracy):
            return
        self.trial.report(accuracy, epoch)
        if self.trial.should_prune():
            self.pruned_after = epoch
            trainer.stop(_("pruned after epoch {epoch}").format(epoch=epoch))


def _trial(frozen, base: TrainConfig) -> Trial:
    """A finished Optuna trial (its user attributes) as a Trial of this search."""
    attrs = frozen.user_attrs
    settings = {**attrs["settings"], "hidden": tuple(attrs["settings"]["hidden"])}
    return Trial(
        number=frozen.number + 1,
        config=base.changed(**settings),
        val_acc=attrs["val_acc"],
        val_loss=attrs["val_loss"],
        seconds=attrs["seconds"],
        stopped=attrs["stopped"],
        epochs=attrs["epochs"],
    )


def _run_processes(plan: _Plan, jobs: int, bar) -> None:
    """`jobs` worker processes on the plan's study, each with one BLAS thread; the bar
    follows the study's finished trials until they are all done."""
    context = multiprocessing.get_context("spawn")  # no fork of a process holding BLAS threads
    workers = [context.Process(target=_worker, args=(plan, i)) for i in range(jobs)]
    for worker in workers:
        worker.start()
    opened = plan.study(seed=None)
    shown = bar.n
    while any(worker.is_alive() for worker in workers):
        time.sleep(0.5)
        done = len(study.finished_trials(opened))
        bar.update(done - shown)
        shown = done
    failed = [worker.exitcode for worker in workers if worker.exitcode]
    if failed:
        raise ConfigError(
            _("{count} of the {jobs} search processes failed (exit codes {codes}).").format(
                count=len(failed), jobs=jobs, codes=", ".join(map(str, failed))
            )
        )
    bar.update(len(study.finished_trials(opened)) - shown)


def _worker(plan: _Plan, index: int) -> None:
    """One process of a --jobs search: its own sampler seed, one BLAS thread."""
    seed = None if plan.base.seed is None else plan.base.seed + 1000 * (index + 1)
    with limited(1):
        plan.run(plan.study(seed=seed))


def _check_choice(name: str, value: str, choices: tuple[str, ...]) -> None:
    if value not in choices:
        raise ConfigError(
            _("{name} {value!r} is not one of {choices}.").format(
                name=name, value=value, choices=", ".join(choices)
            )
        )


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


def _rounded(value: float) -> float:
    return float(f"{value:.{DIGITS}g}")


def _width(text: str) -> int:
    """Columns `text` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)

"""The main job: train a network on a data set and write the run folder.

A run folder holds `model.npz` (see digitlab.modelfile), `history.json`, `config.json`,
`findings.json` (what the doctor's training watcher noticed), `loss.png` and `accuracy.png`,
`stats.npz` (activations and gradients per epoch, see digitlab.report.recorder), `report.html`
with its figures in `report/` (unless report=False), and `checkpoint.npz` when checkpointing.
config.json is written before training and history.json after every epoch, so a run can be
watched while it trains (`digitlab serve --runs`). The CLI's `digitlab train` is a thin layer over
`train_run`.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from digitlab import atomic, modelfile
from digitlab.datasets import Dataset, load_dataset, to_inputs
from digitlab.doctor.findings import save_findings
from digitlab.errors import ConfigError
from digitlab.i18n import _
from digitlab.nn import MLP
from digitlab.report import TrainingRecorder
from digitlab.train import History, Trainer
from digitlab.workflows import plots, run_lock
from digitlab.workflows.config import TrainConfig, build_network, build_trainer, split_validation

#: how pixels become inputs; recorded in every model file so predictions use the same
NORMALIZATION = {"input": "28x28 grayscale, light digit on dark", "scale": "pixel / 255"}


@dataclass
class RunResult:
    """What `train_run` made. accuracy: {"train": ..., "test": ...} of the network as saved
    (after early stopping, of the best epoch's weights, not the last epoch's)."""

    network: MLP
    history: History
    dataset: Dataset
    out_dir: Path
    accuracy: dict[str, float]
    #: the doctor's watcher stopped the run (it diverged), not early stopping or the epochs
    diverged: bool = False

    @property
    def test_accuracy(self) -> float:
        return self.accuracy["test"]


#: the files that make a folder a run folder: another run's, which --out must not overwrite
RUN_FILES = ("model.npz", "config.json", "history.json", "checkpoint.npz")


def prepare_out_dir(out_dir: str | Path, *, overwrite: bool = False) -> Path:
    """Create the run folder now, so an unwritable path fails before training, not after.

    A folder that already holds a run (RUN_FILES) is refused unless `overwrite`: another run's
    model and history are not replaced without a word. An empty path is refused (it would be
    the current folder)."""
    if not str(out_dir).strip():
        raise ConfigError(
            _("--out is empty; give the path of the run folder to write, e.g. --out runs/first.")
        )
    out_dir = Path(out_dir)
    held = [name for name in RUN_FILES if (out_dir / name).exists()]
    if held and not overwrite:
        raise ConfigError(
            _(
                "--out {folder} already holds a run ({files}); choose another folder, or add "
                "--overwrite to replace it."
            ).format(folder=out_dir, files=", ".join(held))
        )
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        probe = out_dir / ".digitlab-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(
            _(
                "cannot write the run to --out {folder}: {reason}; choose a folder you can "
                "write to."
            ).format(folder=out_dir, reason=reason.lower())
        ) from None
    return out_dir


def train_run(
    config: TrainConfig,
    out_dir: str | Path,
    *,
    progress: bool | None = None,
    log=print,
    report: bool = True,
    checkpoint: bool = False,
    resume: modelfile.Checkpoint | None = None,
    overwrite: bool = False,
) -> RunResult:
    """Load the data, train the network `config` describes, and write the run folder.

    With `config.validation`, that fraction of the training images is held out (the same
    images for the same seed) and measured after every epoch; early stopping watches it.
    report: write report.html (and its figures) at the end. checkpoint: write
    out_dir/checkpoint.npz after every epoch. resume: a checkpoint (modelfile.load_checkpoint)
    to continue from: its weights, optimizer state, history, shuffling generator and recorded
    statistics; training goes on until the history has `config.epochs` epochs. overwrite:
    write into a folder that already holds a run (a resumed run writes into its own).
    """
    if config.early_stopping and (checkpoint or resume is not None):
        # EarlyStopping's best weights so far are not in a checkpoint, so a resumed run could
        # not end with the weights the uninterrupted run would have.
        raise ConfigError(
            _(
                "--early-stopping cannot be combined with --checkpoint or --resume: a "
                "checkpoint does not keep the best weights seen so far; drop one of them."
            )
        )
    out_dir = prepare_out_dir(out_dir, overwrite=overwrite or resume is not None)
    dataset = load_dataset(config.data, progress=progress is not False)
    x_train, t_train, validation = split_validation(
        config, to_inputs(dataset.x_train, config.dtype), dataset.t_train.astype(np.intp)
    )
    x_test = to_inputs(dataset.x_test, config.dtype)
    t_test = dataset.t_test.astype(np.intp)
    if resume is not None:
        network = resume.network
    else:
        network = build_network(config, x_train.shape[1], len(dataset.classes))
    trainer = build_trainer(config, network, progress=progress, log=log)
    if log is not None:
        held_out = (
            _(", {count:,} training images held out for validation").format(
                count=len(validation[1])
            )
            if validation is not None
            else ""
        )
        log(
            _("training {network} on {dataset}, {optimizer}{held_out}").format(
                network=repr(network),
                dataset=repr(dataset),
                optimizer=repr(trainer.optimizer),
                held_out=held_out,
            )
        )
    recorder = _recording(trainer, x_train, resume)
    trainer.callbacks.append(SaveHistoryEachEpoch(out_dir / "history.json"))
    if checkpoint or resume is not None:
        trainer.callbacks.append(
            modelfile.CheckpointEachEpoch(
                out_dir / "checkpoint.npz",
                metadata=_model_metadata(config, dataset),
                extras=recorder.to_arrays,
            )
        )
    with run_lock.training(out_dir):  # the runs page tells a killed run from a live one
        atomic.write_text(out_dir / "config.json", json.dumps(config.to_dict(), indent=1) + "\n")
        history = trainer.fit(x_train, t_train, x_test, t_test, validation=validation)
        recorder.save(out_dir / "stats.npz")
        save_findings(trainer.watcher.findings, out_dir / "findings.json")

        # Measured again rather than read from the history: after early stopping the network holds
        # the best epoch's weights, not the last epoch's. A run the watcher stopped has weights that
        # overflow: its finding says so, numpy's warnings would only repeat it.
        diverged = trainer.watcher is not None and trainer.watcher.stopped_by is not None
        with np.errstate(all="ignore") if diverged else contextlib.nullcontext():
            accuracy = {
                "train": network.accuracy(x_train, t_train),
                "test": network.accuracy(x_test, t_test),
            }
            if validation is not None:
                accuracy["validation"] = network.accuracy(*validation)
        modelfile.save(
            network, out_dir / "model.npz", accuracy=accuracy, **_model_metadata(config, dataset)
        )
        history.save(out_dir / "history.json")
        plots.plot_loss(history, out_dir / "loss.png")
        plots.plot_accuracy(history, out_dir / "accuracy.png")
        if report:
            from digitlab.report import write_report

            with np.errstate(all="ignore") if diverged else contextlib.nullcontext():
                write_report(out_dir, network=network, dataset=dataset)
    return RunResult(network, history, dataset, out_dir, accuracy, diverged)


class SaveHistoryEachEpoch:
    """Trainer callback: write the history so far to `path` after every epoch (atomically)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def on_epoch_end(self, trainer: Trainer, epoch: int) -> None:
        trainer.history.save(self.path)


#: training images whose activations the recorder histograms after every epoch
PROBE_SIZE = 500


def _recording(trainer: Trainer, x_train: np.ndarray, resume) -> object:
    """Add a TrainingRecorder to the trainer (first), and put a checkpoint's state back."""
    recorder = TrainingRecorder(x_train[:PROBE_SIZE])
    trainer.callbacks.insert(0, recorder)
    if resume is not None:
        resume.restore(trainer)
        recorder.load_arrays(resume.extras)
        remaining = trainer.epochs - trainer.history.epochs
        if remaining < 1:
            raise ConfigError(
                _(
                    "the checkpoint already has {done} epochs of the {total} asked for; pass a "
                    "larger --epochs to train longer."
                ).format(done=trainer.history.epochs, total=trainer.epochs)
            )
        trainer.epochs = remaining
    return recorder


def _model_metadata(config: TrainConfig, dataset: Dataset) -> dict:
    return {
        "dataset": dataset.name,
        "classes": list(dataset.classes),
        "normalization": NORMALIZATION,
        "training": config.to_dict(),
    }


def resume_config(checkpoint: modelfile.Checkpoint, **changes) -> TrainConfig:
    """The TrainConfig a checkpoint was written with, with `changes` (e.g. epochs=30).

    Keys an older digitlab wrote and this one no longer has (weight_init_std) are left out:
    their values were the defaults of today's keys."""
    known = TrainConfig.__dataclass_fields__
    saved = {k: v for k, v in checkpoint.training.items() if k in known}
    return TrainConfig(**saved).changed(**changes)

"""`digitlab train`: the main job.

Every setting of `digitlab.workflows.config.TrainConfig` is an option of the same name
(`--batch-size` for batch_size). An option left out is None here, so the --config file's value,
else the default, applies: options given on the command line override the file.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click
import numpy as np

from digitlab.cli.options import (
    SectionedCommand,
    Sizes,
    activation_option,
    data_option,
    flatten_sizes,
    progress_option,
    seed_option,
)
from digitlab.i18n import _
from digitlab.workflows.config import (
    DEFAULT_DROPOUT,
    DEFAULT_HIDDEN,
    DEFAULT_LR,
    DEPENDENT,
    DTYPES,
    NETS,
    OPTIMIZERS,
    SCHEDULES,
    TrainConfig,
)

_DEFAULTS = TrainConfig()
_UNIT = click.FloatRange(0, 1, max_open=True)


def _with_default(help_text: str, name: str) -> str:
    """`help_text` and the default of setting `name`, as click writes them. (The options'
    defaults are None, so that a --config file applies where they are not given.) A setting
    that belongs to one choice (--momentum to --optimizer momentum) shows its default there."""
    value = getattr(_DEFAULTS, name)
    if value is None and name in DEPENDENT:
        value = DEPENDENT[name][2]
    if isinstance(value, tuple):
        shown = ",".join(map(str, value))
    else:
        shown = f"{value:g}" if isinstance(value, float) else str(value)
    return _("{help}  [default: {value}]").format(help=help_text, value=shown)


def _number_or_name(value: str | None) -> float | str | None:
    """--weight-init 0.01 is a standard deviation; he, xavier, auto are names (checked by
    TrainConfig)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


SECTIONS = {
    _("Network"): ("net", "hidden", "activation", "weight_init", "batchnorm", "dropout"),
    _("Optimizer"): ("optimizer", "lr", "momentum", "beta1", "beta2", "weight_decay"),
    _("Learning-rate schedule"): ("schedule", "step_every", "step_gamma", "warmup"),
    _("Data"): ("data", "augment", "shift", "rotation", "validation", "early_stopping"),
    _("Run"): ("epochs", "batch_size", "dtype", "seed", "config_file"),
    _("Output"): ("out", "overwrite", "progress", "report", "checkpoint", "resume"),
}


@click.command(
    cls=SectionedCommand,
    sections=SECTIONS,
    help=_(
        "Train a network and write the run folder: model, history, plots and report. By "
        "default, the book's two-layer network (784-256-10, ReLU) with SGD. Settings come from "
        "the options, from --config FILE (such as a run's config.json, to repeat the run), or "
        "both: options override the file."
    ),
)
@click.option(
    "--net",
    type=click.Choice(NETS),
    default=None,
    help=_with_default(
        _(
            "The network: mlp (fully connected: --hidden, --activation, --batchnorm), "
            "simple-conv (the book's SimpleConvNet, chapter 7) or deep-conv (its DeepConvNet, "
            "chapter 8)."
        ),
        "net",
    ),
)
@click.option(
    "--hidden",
    type=Sizes(),
    multiple=True,
    callback=flatten_sizes,
    help=_(
        "Sizes of the hidden layers: 256 for one, 512,256 (or --hidden 512 --hidden 256); a "
        "conv net's one fully connected layer  [default: {defaults}]"
    ).format(defaults=", ".join(f"{net} {sizes[0]}" for net, sizes in DEFAULT_HIDDEN.items())),
)
@activation_option(default=None)
@click.option(
    "--weight-init",
    default=None,
    metavar="auto|he|xavier|STD",
    callback=lambda ctx, param, value: _number_or_name(value),
    help=_with_default(
        _(
            "Initial weights: auto (He for ReLU, Xavier for sigmoid and tanh), he, xavier, or a "
            "standard deviation such as 0.01."
        ),
        "weight_init",
    ),
)
@click.option(
    "--batchnorm/--no-batchnorm",
    default=None,
    help=_("Batch normalization after each hidden layer  [default: off]"),
)
@click.option(
    "--dropout",
    type=_UNIT,
    default=None,
    help=_("Probability of dropping each hidden unit while training  [default: {defaults}]").format(
        defaults=", ".join(f"{net} {p:g}" for net, p in DEFAULT_DROPOUT.items())
    ),
)
@click.option(
    "--optimizer",
    type=click.Choice(list(OPTIMIZERS)),
    default=None,
    help=_with_default(_("The update rule."), "optimizer"),
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help=_("Learning rate  [default: {defaults}]").format(
        defaults=", ".join(f"{name} {lr:g}" for name, lr in DEFAULT_LR.items())
    ),
)
@click.option(
    "--momentum",
    type=_UNIT,
    default=None,
    help=_with_default(_("Momentum of --optimizer momentum or nesterov"), "momentum"),
)
@click.option(
    "--beta1",
    type=_UNIT,
    default=None,
    help=_with_default(_("Adam's decay of the mean gradient"), "beta1"),
)
@click.option(
    "--beta2",
    type=_UNIT,
    default=None,
    help=_with_default(_("Adam's decay of the mean squared gradient"), "beta2"),
)
@click.option(
    "--weight-decay",
    type=click.FloatRange(min=0),
    default=None,
    help=_("L2 weight decay of the weight matrices  [default: 0; adamw 0.01, decoupled]"),
)
@click.option(
    "--schedule",
    type=click.Choice(SCHEDULES),
    default=None,
    help=_with_default(
        _(
            "How the learning rate changes: constant, step (times --step-gamma every "
            "--step-every epochs) or cosine (down to 0 at the last epoch)."
        ),
        "schedule",
    ),
)
@click.option(
    "--step-every",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help=_("Epochs between decays of --schedule step  [default: a third of --epochs]"),
)
@click.option(
    "--step-gamma",
    type=click.FloatRange(0, 1, min_open=True),
    default=None,
    help=_with_default(_("Factor of each decay of --schedule step"), "step_gamma"),
)
@click.option(
    "--warmup",
    type=click.FloatRange(min=0),
    default=None,
    help=_with_default(
        _("Epochs of linear learning-rate warm-up before the schedule (0: none)."), "warmup"
    ),
)
@data_option(default=None)
@click.option(
    "--augment/--no-augment",
    default=None,
    help=_("Data augmentation: each batch randomly shifted and rotated  [default: off]"),
)
@click.option(
    "--shift",
    type=click.FloatRange(0, 14),
    default=None,
    help=_with_default(_("Largest shift of --augment, in pixels"), "shift"),
)
@click.option(
    "--rotation",
    type=click.FloatRange(0, 180),
    default=None,
    help=_with_default(_("Largest rotation of --augment, in degrees"), "rotation"),
)
@click.option(
    "--validation",
    type=_UNIT,
    default=None,
    help=_with_default(
        _("Fraction of the training images held out as a validation set (0: none)."), "validation"
    ),
)
@click.option(
    "--early-stopping",
    type=click.IntRange(min=0),
    default=None,
    metavar="PATIENCE",
    help=_with_default(
        _(
            "Stop after this many epochs without a better validation accuracy and keep the "
            "best epoch's weights (0: off; needs --validation)."
        ),
        "early_stopping",
    ),
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=None,
    help=_with_default(_("Passes over the training set."), "epochs"),
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=None,
    help=_with_default(_("Samples per step."), "batch_size"),
)
@click.option(
    "--dtype",
    type=click.Choice(DTYPES),
    default=None,
    help=_with_default(_("Floating-point type of the weights and the arithmetic."), "dtype"),
)
@seed_option(
    _("Seed of the initial weights, the shuffling and the validation split: same seed, same run."),
    default=None,
)
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=_("A JSON file of settings, such as a run's config.json; options given override it."),
)
@click.option(
    "--out",
    type=click.Path(file_okay=False),
    default=None,
    help=_("Run folder to write  [default: runs/DATA-DATE-TIME]"),
)
@click.option(
    "--overwrite",
    is_flag=True,
    default=False,
    help=_("Write into --out even if it already holds a run (its model and history are replaced)."),
)
@progress_option(_("Progress bar per epoch  [default: on a terminal only]"))
@click.option(
    "--report/--no-report",
    default=True,
    show_default=True,
    help=_("Write report.html (curves, confusion matrix, mistakes, weights, activations)."),
)
@click.option(
    "--checkpoint",
    is_flag=True,
    default=False,
    help=_("Write checkpoint.npz in the run folder after every epoch, to --resume from."),
)
@click.option(
    "--resume",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=_(
        "Continue the run saved in this checkpoint.npz (weights, optimizer, history, "
        "shuffling) until it has --epochs epochs; writes to its folder unless --out is given."
    ),
)
def train(config_file, out, overwrite, progress, report, checkpoint, resume, **settings) -> None:
    from digitlab.workflows.run import train_run

    if resume is not None:
        _resume(resume, config_file, _given(settings), out, progress, report)
        return
    config = config_from_options(config_file, settings)
    if out is None:
        name = Path(config.data).name if Path(config.data).is_dir() else config.data
        out = Path("runs") / f"{name}-{datetime.now():%Y%m%d-%H%M%S}"
    result = train_run(
        config,
        out,
        progress=progress,
        log=click.echo,
        report=report,
        checkpoint=checkpoint,
        overwrite=overwrite,
    )
    _finished(result, report)


def config_from_options(config_file: Path | None, settings: dict) -> TrainConfig:
    """The run's settings: the --config file's (else the defaults), with the options given on
    the command line in their place. settings: the parsed setting options, None if not given."""
    from digitlab.workflows.config import load_config

    base = load_config(config_file) if config_file is not None else TrainConfig()
    return base.changed(**_given(settings))


def _given(settings: dict) -> dict:
    return {name: value for name, value in settings.items() if value is not None}


def _resume(path: Path, config_file, given: dict, out, progress, report) -> None:
    """--resume: the checkpoint's settings, except --epochs (the total) if given."""
    from digitlab.errors import ConfigError
    from digitlab.modelfile import load_checkpoint
    from digitlab.workflows.run import resume_config, train_run

    if config_file is not None:
        raise ConfigError(
            _(
                "--config cannot be combined with --resume: a resumed run keeps the settings "
                "of its checkpoint; drop --config."
            )
        )
    checkpoint = load_checkpoint(path)
    saved = resume_config(checkpoint)
    for name, value in given.items():
        if name != "epochs" and value != getattr(saved, name):
            raise ConfigError(
                _(
                    "cannot change --{option} when resuming: the checkpoint was trained "
                    "with {saved!r}; drop --{option}, or start a new run"
                ).format(option=name.replace("_", "-"), saved=getattr(saved, name))
            )
    config = saved.changed(epochs=given.get("epochs", saved.epochs))
    click.echo(_("resuming {path} after epoch {epoch}").format(path=path, epoch=checkpoint.epoch))
    result = train_run(
        config,
        out if out is not None else path.parent,
        progress=progress,
        log=click.echo,
        report=report,
        resume=checkpoint,
    )
    _finished(result, report)


def _finished(result, report: bool) -> None:
    click.echo(
        _(
            "test accuracy {accuracy:.1%}; wrote model.npz, history.json, loss.png, "
            "accuracy.png to {folder}"
        ).format(accuracy=result.test_accuracy, folder=result.out_dir)
    )
    if report:
        click.echo(_("report: {path}").format(path=result.out_dir / "report.html"))
    finite = all(np.all(np.isfinite(p)) for p in result.network.params.values())
    if result.diverged or not finite:
        # a run whose weights blew up is no success, whatever was written
        click.echo(
            _(
                "digitlab: training diverged (see the finding above); the run folder is kept "
                "for inspection: fix what the finding says, e.g. a lower --lr, and train again."
            ),
            err=True,
        )
        click.get_current_context().exit(1)

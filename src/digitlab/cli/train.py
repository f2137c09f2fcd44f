"""`digitlab train`: the main job."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from digitlab.i18n import _


@click.command(help=_("Train the two-layer network and write the model, history and plots."))
@click.option(
    "--data",
    default="mnist-10k",
    show_default=True,
    help=_("A data set (mnist-10k, mnist, fashion-mnist) or a folder holding the four IDX files."),
)
@click.option(
    "--hidden",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help=_("Units in the hidden layer."),
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help=_("Passes over the training set."),
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help=_("Samples per step."),
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=0.5,
    show_default=True,
    help=_("Learning rate of SGD."),
)
@click.option(
    "--activation",
    type=click.Choice(["relu", "sigmoid"]),
    default="relu",
    show_default=True,
    help=_("Hidden-layer activation."),
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help=_("Seed of the initial weights and the shuffling: same seed, same run."),
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help=_("Run folder to write  [default: runs/DATA-DATE-TIME]"),
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help=_("Progress bar per epoch  [default: on a terminal only]"),
)
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
@click.pass_context
def train(
    ctx,
    data,
    hidden,
    epochs,
    batch_size,
    lr,
    activation,
    seed,
    out,
    progress,
    report,
    checkpoint,
    resume,
) -> None:
    from digitlab.run import TrainConfig, train_run

    if resume is not None:
        _resume(ctx, resume, out, progress, report)
        return
    config = TrainConfig(
        data=data,
        hidden=hidden,
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        activation=activation,
        seed=seed,
    )
    if out is None:
        name = Path(data).name if Path(data).is_dir() else data
        out = Path("runs") / f"{name}-{datetime.now():%Y%m%d-%H%M%S}"
    result = train_run(
        config, out, progress=progress, log=click.echo, report=report, checkpoint=checkpoint
    )
    _finished(result, report)


def _resume(ctx, path: Path, out, progress, report) -> None:
    """--resume: the checkpoint's settings, except --epochs (the total) if given."""
    from click.core import ParameterSource

    from digitlab.errors import ConfigError
    from digitlab.modelfile import load_checkpoint
    from digitlab.run import resume_config, train_run

    checkpoint = load_checkpoint(path)
    changes = {}
    if ctx.get_parameter_source("epochs") == ParameterSource.COMMANDLINE:
        changes["epochs"] = ctx.params["epochs"]
    config = resume_config(checkpoint, **changes)
    for name, value in ctx.params.items():
        saved = checkpoint.training.get(name, value)
        given = ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
        if given and name != "epochs" and value != saved:
            raise ConfigError(
                _(
                    "cannot change --{option} when resuming: the checkpoint was trained "
                    "with {saved!r}; drop --{option}, or start a new run"
                ).format(option=name.replace("_", "-"), saved=saved)
            )
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

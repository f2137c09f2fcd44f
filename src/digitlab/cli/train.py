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
def train(data, hidden, epochs, batch_size, lr, activation, seed, out, progress) -> None:
    from digitlab.run import TrainConfig, train_run

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
    result = train_run(config, out, progress=progress, log=click.echo)
    click.echo(
        _(
            "test accuracy {accuracy:.1%}; wrote model.npz, history.json, loss.png, "
            "accuracy.png to {folder}"
        ).format(accuracy=result.test_accuracy, folder=result.out_dir)
    )

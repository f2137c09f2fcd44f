"""The `digitlab` command. Thin: every command calls one function of the library.

Errors digitlab raises on purpose (DigitlabError) and bad arguments become one line on stderr
and a non-zero exit code, never a traceback.
"""

from __future__ import annotations

import time
import warnings
from datetime import datetime
from pathlib import Path

import click
import numpy as np

from digitlab.errors import DigitlabError

EXIT_ERROR = 1
EXIT_USAGE = 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="digitlab")
def cli() -> None:
    """digitlab: neural networks for handwritten digits, from scratch in NumPy."""


@cli.command()
@click.option(
    "--data",
    default="mnist-10k",
    show_default=True,
    help="A data set (mnist-10k, mnist, fashion-mnist) or a folder holding the four IDX files.",
)
@click.option(
    "--hidden",
    type=click.IntRange(min=1),
    default=256,
    show_default=True,
    help="Units in the hidden layer.",
)
@click.option(
    "--epochs",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="Passes over the training set.",
)
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Samples per step.",
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=0.5,
    show_default=True,
    help="Learning rate of SGD.",
)
@click.option(
    "--activation",
    type=click.Choice(["relu", "sigmoid"]),
    default="relu",
    show_default=True,
    help="Hidden-layer activation.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the initial weights and the shuffling: same seed, same run.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Run folder to write  [default: runs/DATA-DATE-TIME]",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar per epoch  [default: on a terminal only]",
)
def train(data, hidden, epochs, batch_size, lr, activation, seed, out, progress) -> None:
    """Train the two-layer network and write the model, history and plots."""
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
        f"test accuracy {result.test_accuracy:.1%}; wrote model.npz, history.json, "
        f"loss.png, accuracy.png to {result.out_dir}"
    )


@cli.command()
@click.option(
    "--hidden",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help="Units in the hidden layer.",
)
@click.option(
    "--activation",
    type=click.Choice(["relu", "sigmoid"]),
    default="relu",
    show_default=True,
    help="Hidden-layer activation.",
)
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help="Training images in the batch the loss is taken over.",
)
@click.option(
    "--data",
    default="mnist-10k",
    show_default=True,
    help="A data set name or a folder of IDX files.",
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="Seed of the initial weights and of the images drawn.",
)
def gradcheck(hidden, activation, samples, data, seed) -> None:
    """Check backpropagation against central differences for every weight.

    Builds a float64 TwoLayerNet (784-HIDDEN-10, He or Xavier init), takes SAMPLES training
    images, and prints a table per tensor with a verdict. Exit code 1 if a gradient is wrong.
    """
    from digitlab.datasets import load_dataset
    from digitlab.gradients import check
    from digitlab.nn import TwoLayerNet
    from digitlab.run import to_inputs

    dataset = load_dataset(data, progress=False)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(
        len(dataset.t_train), size=min(samples, len(dataset.t_train)), replace=False
    )
    x = to_inputs(dataset.x_train[chosen], np.float64)
    t = dataset.t_train[chosen].astype(np.intp)
    network = TwoLayerNet(
        x.shape[1],
        hidden,
        len(dataset.classes),
        weight_init_std="auto",
        activation=activation,
        seed=seed,
    )
    start = time.perf_counter()
    result = check(network, x, t)
    click.echo(result.table())
    click.echo(
        f"({sum(c.checked for c in result.tensors):,} partial derivatives in "
        f"{time.perf_counter() - start:.2f} s)"
    )
    if result.wrong:
        raise SystemExit(EXIT_ERROR)


@cli.group()
def data() -> None:
    """Download and inspect data sets."""


@data.command("fetch")
@click.argument("name", type=click.Choice(["mnist", "fashion-mnist"]))
def data_fetch(name: str) -> None:
    """Download a data set into the cache (checksums verified) and print where it is."""
    from digitlab.datasets import fetch

    click.echo(fetch(name))


def main(argv: list[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code."""
    warnings.formatwarning = _one_line_warning
    try:
        # Not standalone: click returns instead of exiting, so errors can be printed our way.
        code = cli.main(args=argv, prog_name="digitlab", standalone_mode=False)
    except click.Abort:
        click.echo("digitlab: interrupted", err=True)
        return 130
    except click.ClickException as exc:
        click.echo(f"digitlab: {exc.format_message()} (see `digitlab --help`)", err=True)
        return EXIT_USAGE
    except DigitlabError as exc:
        click.echo(f"digitlab: {exc}", err=True)
        return EXIT_ERROR
    return code if isinstance(code, int) else 0


def _one_line_warning(message, category, filename, lineno, line=None) -> str:
    return f"digitlab: warning: {message}\n"

"""`digitlab gradcheck`: backprop against central differences, with a verdict."""

from __future__ import annotations

import time

import click
import numpy as np

from digitlab.cli.options import activation_option, data_option, seed_option
from digitlab.i18n import _


@click.command(
    help=_(
        "Check backpropagation against central differences for every weight. Builds a float64 "
        "TwoLayerNet (784-HIDDEN-10, He or Xavier init), takes SAMPLES training images and "
        "prints a table per tensor with a verdict. Exit code 1 if a gradient is wrong."
    )
)
@click.option(
    "--hidden",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help=_("Units in the hidden layer."),
)
@activation_option()
@click.option(
    "--samples",
    type=click.IntRange(min=1),
    default=10,
    show_default=True,
    help=_("Training images in the batch the loss is taken over."),
)
@data_option()
@seed_option(_("Seed of the initial weights and of the images drawn."))
def gradcheck(hidden, activation, samples, data, seed) -> None:
    from digitlab.cli import EXIT_ERROR
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
        _("({count:,} partial derivatives in {seconds:.2f} s)").format(
            count=sum(c.checked for c in result.tensors), seconds=time.perf_counter() - start
        )
    )
    if result.wrong:
        click.get_current_context().exit(EXIT_ERROR)

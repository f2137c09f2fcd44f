"""`digitlab doctor MODULE:FACTORY`: examine a learner's own network on real data."""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np

from digitlab.cli.options import data_option, seed_option
from digitlab.i18n import _


@click.command(
    help=_(
        "Examine your own network and say why it does not learn. MODULE is your Python file "
        "(or a module name), FACTORY the class or function in it that returns the network: an "
        "object with `params` and `loss(x, t)`, and `predict`/`gradient` where it has them. "
        "The doctor takes BATCH training images (scaled to [0, 1]) and prints one block per "
        "finding, most severe first, with the evidence and the fix. Exit code 1 if something "
        "is an error."
    )
)
@click.argument("target", metavar="MODULE:FACTORY")
@data_option()
@click.option(
    "--batch",
    type=click.IntRange(min=1),
    default=100,
    show_default=True,
    help=_("Training images in the batch examined."),
)
@click.option(
    "--lr",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help=_("Your learning rate (plain SGD): enables trial steps that judge it."),
)
@click.option(
    "--labels",
    type=click.Choice(["one-hot", "index"]),
    default="one-hot",
    show_default=True,
    help=_("How your loss expects the labels: one-hot rows (as the book's) or class indices."),
)
@seed_option(_("Seed of the images drawn and of the coordinates checked."))
def doctor(target, data, batch, lr, labels, seed) -> None:
    from digitlab.cli import EXIT_ERROR
    from digitlab.datasets import load_dataset
    from digitlab.doctor import examine
    from digitlab.doctor.loader import import_module, importable_from, make_network, split_target
    from digitlab.run import to_inputs

    module_name, factory = split_target(target)
    dataset = load_dataset(data, progress=False)
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(dataset.t_train), size=min(batch, len(dataset.t_train)), replace=False)
    x = to_inputs(dataset.x_train[chosen], np.float64)
    classes = len(dataset.classes)
    t = dataset.t_train[chosen].astype(np.intp)
    if labels == "one-hot":
        t = np.eye(classes)[t]
    folder = Path(module_name).resolve().parent if module_name.endswith(".py") else Path.cwd()
    with importable_from(folder):
        loaded = import_module(module_name)
        network = make_network(module_name, loaded, factory, x.shape[1], classes)
        click.echo(
            _("examining {factory} from {module} on {count} images of {data}…").format(
                factory=factory, module=module_name, count=len(x), data=dataset.name
            )
        )
        report = examine(network, x, t, learning_rate=lr, seed=seed)
    click.echo("")
    click.echo(report.render())
    if not report.ok:
        click.get_current_context().exit(EXIT_ERROR)

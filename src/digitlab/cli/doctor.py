"""`digitlab doctor`: examine a learner's own network (MODULE:FACTORY) or training program
(PROGRAM.py) and say why it does not learn."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click
import numpy as np
from click.core import ParameterSource

from digitlab.cli.options import SectionedCommand, data_option, seed_option
from digitlab.i18n import _

if TYPE_CHECKING:
    from digitlab.doctor import Report

#: the options of each form, which the other form refuses
FACTORY_OPTIONS = ("data", "raw", "batch", "lr", "labels")
PROGRAM_OPTIONS = ("steps", "seconds")


@click.command(
    cls=SectionedCommand,
    sections={
        _("Options of MODULE:FACTORY"): FACTORY_OPTIONS,
        _("Options of PROGRAM.py"): PROGRAM_OPTIONS,
    },
    help="\n\n".join(
        [
            _(
                "Examine your own network and say why it does not learn. It prints one block per "
                "finding, most severe first, with the evidence and the fix (with --json: one JSON "
                "object instead). Exit code 1 if something is an error. Two forms:"
            ),
            _(
                "digitlab doctor MODULE:FACTORY: MODULE is your Python file (or a module name), "
                "FACTORY the class or function in it that returns the network: an object with "
                "`params` and `loss(x, t)`, and `predict`/`gradient` where it has them. The doctor "
                "takes BATCH training images of --data (a shipped data set scaled to [0, 1], or "
                "0-255 with --raw; your own file as it is stored) and gives the labels as one-hot "
                "rows or class indices, whichever your loss accepts."
            ),
            _(
                "digitlab doctor PROGRAM.py [-- ARGS...]: runs your training program with ARGS "
                "(after --, so that they are not taken as the doctor's options) and watches its "
                "first --steps weight updates, for at most --seconds."
            ),
        ]
    ),
)
@click.argument("target", metavar="MODULE:FACTORY|PROGRAM.py")
@click.argument("args", metavar="[-- ARGS...]", nargs=-1, type=click.UNPROCESSED)
@data_option(
    help_text=_(
        "A data set (mnist-10k, mnist, fashion-mnist), or your own data as it is stored: a folder "
        "with train-images-idx3-ubyte and train-labels-idx1-ubyte (raw or .gz), an .npz (x and "
        "t, or X and y, ...) or a .csv (a label column, then one pixel per column); images of "
        "any size."
    )
)
@click.option(
    "--raw",
    is_flag=True,
    help=_(
        "Give the network a shipped data set's pixels as 0-255, as keras' mnist.load_data() "
        "gives them, instead of scaled to [0, 1]."
    ),
)
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
    type=click.Choice(["auto", "one-hot", "index"]),
    default="auto",
    show_default=True,
    help=_(
        "How your loss expects the labels: one-hot rows (as the book's), class indices, or auto "
        "(the one your loss accepts, one-hot tried first)."
    ),
)
@click.option(
    "--steps",
    type=click.IntRange(min=1),
    default=30,
    show_default=True,
    help=_("Weight updates of your program to watch."),
)
@click.option(
    "--seconds",
    type=click.FloatRange(min=0, min_open=True),
    default=60.0,
    show_default=True,
    help=_("Longest time to let your program run."),
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help=_("Print the report as one JSON object (target, steps_observed, findings) on stdout."),
)
@seed_option(_("Seed of the images drawn and of the coordinates checked."))
@click.pass_context
def doctor(
    ctx: click.Context,
    target: str,
    args: tuple[str, ...],
    data: str,
    raw: bool,
    batch: int,
    lr: float | None,
    labels: str,
    steps: int,
    seconds: float,
    as_json: bool,
    seed: int,
) -> None:
    from digitlab.cli import EXIT_ERROR

    if target.endswith(".py"):
        _refuse_options(ctx, FACTORY_OPTIONS, target)
        # the engine of this form is a package of its own, loaded only when it is asked for
        from digitlab.doctor.program import examine_program

        report = examine_program(
            target, list(args), steps=steps, seconds=seconds, lang=None, seed=seed
        )
    else:
        _refuse_options(ctx, PROGRAM_OPTIONS, target)
        if args:
            raise click.UsageError(
                _(
                    "{args} after {target}: arguments are passed to a PROGRAM.py only; "
                    "MODULE:FACTORY takes none."
                ).format(args=" ".join(args), target=target),
                ctx,
            )
        report = _examine_factory(target, data, raw, batch, lr, labels, seed, quiet=as_json)
    if as_json:
        click.echo(json.dumps(report.to_json_data(target), indent=2, ensure_ascii=False))
    else:
        click.echo("")
        click.echo(report.render())
    if not report.ok:
        ctx.exit(EXIT_ERROR)


def _examine_factory(
    target: str,
    data: str,
    raw: bool,
    batch: int,
    lr: float | None,
    labels: str,
    seed: int,
    *,
    quiet: bool,
) -> Report:
    """Build the network of MODULE:FACTORY and examine it on a batch of `data`; `quiet` leaves
    out the line that says what is examined (stdout is then the report alone)."""
    from digitlab.doctor import examine
    from digitlab.doctor.conv import images_for
    from digitlab.doctor.data import labels_for_loss
    from digitlab.doctor.loader import import_module, importable_from, make_network, split_target

    module_name, factory = split_target(target)
    x, indices, classes, name = _batch(data, raw, batch, seed)
    folder = Path(module_name).resolve().parent if module_name.endswith(".py") else Path.cwd()
    with importable_from(folder):
        loaded = import_module(module_name)
        network = make_network(module_name, loaded, factory, x.shape[1], len(classes))
        if not quiet:
            click.echo(
                _("examining {factory} from {module} on {count} images of {data}…").format(
                    factory=factory, module=module_name, count=len(x), data=name
                )
            )
        x = images_for(network, x)  # a conv net takes the images, not the rows loaded here
        t = labels_for_loss(network, x, indices, len(classes), labels)
        return examine(network, x, t, learning_rate=lr, seed=seed)


def _batch(
    data: str, raw: bool, size: int, seed: int
) -> tuple[np.ndarray, np.ndarray, tuple[str, ...], str]:
    """`size` training images of `data` drawn without replacement: x (N, D) float64 inputs, t
    (N,) class indices, the class names and the data's name. A shipped data set is scaled to
    [0, 1] (0-255 if `raw`); the learner's own data keeps the values it is stored with."""
    from digitlab.datasets import DATASETS, load_dataset, read_user_data, to_inputs

    if data in DATASETS:
        dataset = load_dataset(data, progress=False)
        images, labels, scale = dataset.x_train, dataset.t_train, not raw
    elif raw:
        raise click.UsageError(
            _(
                "--raw applies to the shipped data sets; your own data ({data}) is given to the "
                "network as it is stored."
            ).format(data=data),
            click.get_current_context(),
        )
    else:
        dataset = read_user_data(data)
        images, labels, scale = dataset.x, dataset.t, False
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(labels), size=min(size, len(labels)), replace=False)
    if scale:
        x = to_inputs(images[chosen], np.float64)
    else:
        # float64 for the doctor's finite differences; the values stay as they are
        x = images[chosen].reshape(len(chosen), -1).astype(np.float64)
    return x, labels[chosen].astype(np.intp), dataset.classes, dataset.name


def _refuse_options(ctx: click.Context, names: tuple[str, ...], target: str) -> None:
    """A usage error naming the options among `names` given on the command line: they belong
    to the other form of the command than `target`'s."""
    given = [
        param.opts[0]
        for param in ctx.command.params
        if param.name in names and ctx.get_parameter_source(param.name) != ParameterSource.DEFAULT
    ]
    if given:
        raise click.UsageError(
            _("{options} cannot be used with {target}: see the two forms in the help.").format(
                options=", ".join(given), target=target
            ),
            ctx,
        )

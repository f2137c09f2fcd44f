"""What several commands share: option decorators, value types, and help in titled sections.

@data_option()
@seed_option(_("Seed of ..."))
def command(data, seed): ...
"""

from __future__ import annotations

from collections.abc import Callable

import click

from digitlab.i18n import _
from digitlab.nn.layers import ACTIVATIONS


def data_option(default: str | None = "mnist-10k", help_text: str | None = None) -> Callable:
    """--data; `default` None lets a config file's data set apply; `help_text` for a command
    that reads more kinds of data than the named sets and IDX folders."""
    return click.option(
        "--data",
        default=default,
        show_default=default is not None,
        help=_noted_default(
            help_text
            or _(
                "A data set (mnist-10k, mnist, fashion-mnist) or a folder holding the four IDX "
                "files."
            ),
            default,
            "mnist-10k",
        ),
    )


def seed_option(help_text: str, default: int | None = 0) -> Callable:
    """--seed, a whole number; `default` None lets a config file's seed apply."""
    return click.option(
        "--seed",
        # numpy's generators take 0 to 2^128 - 1; a negative seed is refused by click, not numpy
        type=click.IntRange(min=0),
        default=default,
        show_default=default is not None,
        help=_noted_default(help_text, default, "0"),
    )


def activation_option(default: str | None = "relu") -> Callable:
    return click.option(
        "--activation",
        type=click.Choice(list(ACTIVATIONS)),
        default=default,
        show_default=default is not None,
        help=_noted_default(_("Hidden-layer activation."), default, "relu"),
    )


def _noted_default(help_text: str, default: object, shown: str) -> str:
    """The help of an option whose default is None (so that a --config file applies where it
    is not given): `help_text` and the default that applies then, as click writes defaults."""
    return help_text if default is not None else f"{help_text}  [default: {shown}]"


def progress_option(help_text: str) -> Callable:
    return click.option("--progress/--no-progress", default=None, help=help_text)


class Sizes(click.ParamType):
    """Whole numbers >= 1 separated by commas: "512,256" -> (512, 256)."""

    name = "N[,N...]"

    def convert(self, value, param, ctx) -> tuple[int, ...]:
        if isinstance(value, tuple):
            return value
        try:
            sizes = tuple(int(part) for part in str(value).split(","))
        except ValueError:
            sizes = ()
        if not sizes or min(sizes) < 1:
            self.fail(
                _("{value!r} is not a list of sizes >= 1 such as 256 or 512,256.").format(
                    value=value
                ),
                param,
                ctx,
            )
        return sizes


class Interval(click.ParamType):
    """A number, or LOW,HIGH: "0.1" -> (0.1, 0.1); "1e-4,1e-1" -> (0.0001, 0.1)."""

    name = "X|LOW,HIGH"

    def __init__(self, low: float = 0.0, high: float = float("inf")) -> None:
        self.low, self.high = low, high

    def convert(self, value, param, ctx) -> tuple[float, float]:
        if isinstance(value, tuple):
            return value
        try:
            ends = tuple(float(part) for part in str(value).split(","))
        except ValueError:
            ends = ()
        if len(ends) == 1:
            ends = ends * 2
        if len(ends) != 2 or not self.low <= ends[0] <= ends[1] <= self.high:
            self.fail(
                _(
                    "{value!r} is not a value or a range LOW,HIGH with {low:g} <= LOW <= HIGH "
                    "<= {high:g}."
                ).format(value=value, low=self.low, high=self.high),
                param,
                ctx,
            )
        return ends


def flatten_sizes(ctx, param, value: tuple[tuple[int, ...], ...]) -> tuple[int, ...] | None:
    """Callback of a repeatable Sizes option: `--hidden 512 --hidden 256` is `--hidden 512,256`;
    None when the option is not given."""
    return tuple(size for sizes in value for size in sizes) or None


class SectionedCommand(click.Command):
    """A command whose --help lists its options under titles: `sections` maps a title to the
    names of its parameters; the others follow under "Other options"."""

    def __init__(self, *args, sections: dict[str, tuple[str, ...]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.sections = sections

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # options only: click 8.2 gives arguments a help record too, which the usage line shows
        records = {
            p.name: p.get_help_record(ctx)
            for p in self.get_params(ctx)
            if isinstance(p, click.Option)
        }
        # one width for the option column of every section, so the sections line up
        width = min(30, max(len(r[0]) for r in records.values() if r))
        records = {name: (r[0].ljust(width), r[1]) for name, r in records.items() if r}
        placed: set[str] = set()
        for title, names in self.sections.items():
            rows = [records[name] for name in names if name in records]
            placed.update(names)
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)
        rest = [record for name, record in records.items() if name not in placed]
        if rest:
            with formatter.section(_("Other options")):
                formatter.write_dl(rest)

"""`digitlab data ...`: download data sets."""

from __future__ import annotations

import click

from digitlab.i18n import _


@click.group(help=_("Download and inspect data sets."))
def data() -> None:
    pass


@data.command(
    "fetch",
    help=_("Download a data set into the cache (checksums verified) and print where it is."),
)
@click.argument("name", type=click.Choice(["mnist", "fashion-mnist"]))
def data_fetch(name: str) -> None:
    from digitlab.datasets import fetch

    click.echo(fetch(name))

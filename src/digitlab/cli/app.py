"""The `digitlab` command group; each command lives in its own module beside this one."""

from __future__ import annotations

import click

from digitlab.cli.data import data
from digitlab.cli.doctor import doctor
from digitlab.cli.export import export
from digitlab.cli.gradcheck import gradcheck
from digitlab.cli.predict import predict
from digitlab.cli.report import report
from digitlab.cli.search import search
from digitlab.cli.serve import serve
from digitlab.cli.train import train
from digitlab.i18n import LANGUAGES, _


@click.group(
    context_settings={"help_option_names": ["-h", "--help"]},
    help=_("digitlab: neural networks for handwritten digits, from scratch in NumPy."),
)
@click.version_option(package_name="digitlab", message=_("%(prog)s, version %(version)s"))
@click.option(
    "--lang",
    type=click.Choice(LANGUAGES),
    default=None,
    help=_("Language of messages: en or zh (default: from the locale, e.g. LANG=zh_CN.UTF-8)."),
)
def cli(lang: str | None) -> None:
    # --lang has already been applied by digitlab.cli.main, before the commands were built.
    pass


cli.add_command(train)
cli.add_command(search)
cli.add_command(gradcheck)
cli.add_command(doctor)
cli.add_command(data)
cli.add_command(serve)
cli.add_command(predict)
cli.add_command(report)
cli.add_command(export)

"""`digitlab report RUN_DIR`: the training report of a run folder."""

from __future__ import annotations

from pathlib import Path

import click

from digitlab.i18n import _


@click.command(
    help=_(
        "Write RUN_DIR/report.html: loss and accuracy, the confusion matrix, the test images "
        "the network gets wrong, the first layer's weights, activations and gradients over "
        "training, the settings and the doctor's findings. Opens offline."
    )
)
@click.argument("run_dir", type=click.Path(file_okay=False, path_type=Path))
def report(run_dir: Path) -> None:
    from digitlab.report import write_report

    click.echo(write_report(run_dir))

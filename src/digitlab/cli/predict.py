"""`digitlab predict IMAGE...`: read handwritten digits from pictures."""

from __future__ import annotations

from pathlib import Path

import click

from digitlab.i18n import _


@click.command(
    help=_(
        "Read the digit in each IMAGE (PNG, JPEG, BMP, ...; any size, dark on light or light "
        "on dark, scanned or photographed) and print the three most probable classes, or "
        "'no digit found' and why for a picture that holds no digit (a dot, a line, a letter, "
        "noise). Without --model, uses the small model that ships with digitlab. Exits 1 if a "
        "picture cannot be read; a picture without a digit is an answer, not an error."
    )
)
@click.argument("images", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--model",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=_("A model.npz from `digitlab train`  [default: the shipped model]"),
)
@click.option(
    "--show",
    is_flag=True,
    default=False,
    help=_("Also write NAME-seen.png: the picture beside the 28x28 image the network saw."),
)
@click.option(
    "--show-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help=_("Folder for the --show pictures."),
)
def predict(images: tuple[Path, ...], model: Path | None, show: bool, show_dir: Path) -> None:
    from digitlab.cli import EXIT_ERROR
    from digitlab.errors import ImageError
    from digitlab.imaging import predict as read_digit
    from digitlab.imaging.prediction import resolve_model
    from digitlab.workflows.plots import plot_prediction

    network = resolve_model(model)
    failed = 0
    for path in images:
        try:
            prediction = read_digit(network, path)
        except ImageError as exc:
            # One bad picture should not hide the others' answers: say why, go on.
            click.echo(f"digitlab: {exc}", err=True)
            failed += 1
            continue
        if prediction.digit:
            answer = "  ".join(f"{label} {p:6.1%}" for label, p in prediction.top(3))
        else:
            answer = _("no digit found ({reason})").format(reason=prediction.reason)
        line = f"{path}: {answer}" if len(images) > 1 else answer
        # A picture with nothing standing out has no steps to show.
        if show and prediction.steps is not None:
            show_dir.mkdir(parents=True, exist_ok=True)
            seen = plot_prediction(prediction, show_dir / f"{path.stem}-seen.png")
            line += "  " + _("(wrote {path})").format(path=seen)
        click.echo(line)
    if failed:
        click.get_current_context().exit(EXIT_ERROR)

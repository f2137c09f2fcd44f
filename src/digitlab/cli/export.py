"""`digitlab export MODEL --format onnx|safetensors|torch --out FILE`: a model for other tools."""

from __future__ import annotations

from pathlib import Path

import click

from digitlab.errors import DigitlabError
from digitlab.i18n import _

#: format -> (the packages it needs, the pip extra that has them)
NEEDS = {
    "onnx": ("onnx", "export"),
    "safetensors": ("safetensors", "export"),
    "torch": ("torch", "torch"),
}


@click.command(
    help=_(
        "Write MODEL (a model.npz from `digitlab train`) in another format: onnx (ONNX "
        "Runtime and every tool that reads ONNX; input 'x' as the network takes it, output "
        "'probabilities'), safetensors (the weights with digitlab's metadata; `digitlab "
        "predict --model FILE.safetensors` reads it back) or torch (a state_dict FILE, and "
        "FILE.py with the nn.Sequential it fits)."
    )
)
@click.argument("model", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--format",
    "kind",
    type=click.Choice(list(NEEDS)),
    required=True,
    help=_("The format to write."),
)
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    required=True,
    help=_("The file to write (e.g. model.onnx, model.safetensors, model.pt)."),
)
def export(model: Path, kind: str, out: Path) -> None:
    from digitlab.modelfile import load

    package, extra = NEEDS[kind]
    try:
        __import__(package)
    except ImportError:
        raise DigitlabError(
            _(
                "--format {kind} needs the {package} package; install it with: pip install "
                "'digitlab[{extra}]'"
            ).format(kind=kind, package=package, extra=extra)
        ) from None
    from digitlab import export as formats

    network = load(model)
    if kind == "onnx":
        written = [formats.to_onnx(network, out)]
    elif kind == "safetensors":
        written = [formats.to_safetensors(network, out)]
    else:
        written = _write_torch(network, out)
    for path in written:
        click.echo(_("wrote {path}").format(path=path))


def _write_torch(network, out: Path) -> list[Path]:
    """The state_dict (tensors only: `torch.load(out, weights_only=True)` reads it) and the
    code of the nn.Sequential it fits, beside it."""
    import torch

    from digitlab.atomic import atomic_write
    from digitlab.export import to_torch, torch_code

    with atomic_write(out, "wb") as file:
        torch.save(to_torch(network).state_dict(), file)
    code = out.with_suffix(".py")
    with atomic_write(code, "w") as file:
        file.write(torch_code(network, weights=out.name))
    return [out, code]

"""A network's summary: each layer with the shape of its output and its parameter count (what
Keras's model.summary() prints), as rows and as text."""

from __future__ import annotations

import numpy as np

from digitlab.i18n import N_, translate


def summary_rows(network) -> tuple[list[tuple[str, str, int]], int]:
    """(layer name and kind, output shape of one sample, parameter count) per layer, and the
    total: what Keras's model.summary() shows. The shapes come from one blank sample's forward
    pass in evaluation mode (nothing is learned or kept from it)."""
    shape = getattr(network, "input_dim", None) or (network.input_size,)
    x = np.zeros((1, *shape), dtype=network.dtype)
    rows = []
    for name, layer in network.layers.items():
        x = layer.forward(x, train=False)
        count = sum(int(np.size(network.params[p])) for p in layer.param_names)
        rows.append((f"{name} ({type(layer).__name__})", str(tuple(x.shape[1:])), count))
    total = sum(int(np.size(p)) for p in network.params.values())
    return rows, total


def summary_text(network) -> str:
    """The summary of `summary_rows` as plain text."""
    rows, total = summary_rows(network)
    width = max(len(name) for name, _shape, _count in rows)
    lines = [repr(network)]
    lines += [f"  {name:<{width}}  {shape:<14} {count:>10,}" for name, shape, count in rows]
    lines.append(
        translate(N_("{total:,} parameters, {dtype}")).format(total=total, dtype=network.dtype.name)
    )
    return "\n".join(lines)

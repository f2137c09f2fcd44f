"""The report's figures, each a function from plain arrays to a PNG.

matplotlib's object API (no pyplot state), so they draw headless and from threads. The words
inside the figures stay in English: matplotlib's bundled fonts have no Chinese glyphs, and a
missing glyph is drawn as a box (and warned about). The page around them is translated.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from digitlab.train.curves import history_figure

DPI = 100


def plot_training(history, path: str | Path) -> Path:
    """Loss per step (raw and smoothed) beside accuracy per epoch: `History.plot`'s figure."""
    history_figure(history).savefig(path, dpi=DPI)
    return Path(path)


def plot_confusion(confusion: np.ndarray, classes: list[str], path: str | Path) -> Path:
    """The confusion matrix (rows: true class, columns: predicted; off-diagonal cells coloured
    by count so that the mistakes stand out) beside the accuracy of each class."""
    confusion = np.asarray(confusion)
    n = len(classes)
    fig = Figure(figsize=(11, 4.8), layout="constrained")
    matrix_ax, class_ax = fig.subplots(1, 2, width_ratios=[1.25, 1])
    errors = confusion.astype(float).copy()
    np.fill_diagonal(errors, np.nan)
    top = max(1.0, float(np.nanmax(errors)) if n > 1 else 1.0)
    matrix_ax.imshow(errors, cmap="Reds", vmin=0, vmax=top)
    for i in range(n):
        for j in range(n):
            count = int(confusion[i, j])
            if count == 0 and i != j:
                continue
            dark = i != j and count > top * 0.6
            matrix_ax.text(
                j,
                i,
                str(count),
                ha="center",
                va="center",
                fontsize=8 if n <= 10 else 6,
                color="white" if dark else ("0.25" if i == j else "black"),
                fontweight="bold" if i == j else "normal",
            )
    matrix_ax.set_xticks(range(n), classes, rotation=45 if max(map(len, classes)) > 2 else 0)
    matrix_ax.set_yticks(range(n), classes)
    matrix_ax.set(xlabel="predicted", ylabel="true", title="Confusion matrix (test set)")

    totals = confusion.sum(axis=1)
    accuracy = np.divide(np.diag(confusion), totals, out=np.zeros(n), where=totals > 0)
    order = np.arange(n)[::-1]
    bars = class_ax.barh(order, accuracy, color="tab:blue")
    worst = int(np.argmin(accuracy))
    bars[worst].set_color("tab:red")
    for i, value in enumerate(accuracy):
        class_ax.text(value, order[i], f" {value:.1%}", va="center", fontsize=8)
    class_ax.set_yticks(order, classes)
    class_ax.set_xlim(max(0.0, float(accuracy.min()) - 0.1), 1.04)
    class_ax.set(xlabel="accuracy", title="Accuracy per class (worst in red)")
    class_ax.grid(alpha=0.3, axis="x")
    fig.savefig(path, dpi=DPI)
    return Path(path)


def plot_mistakes(
    images: np.ndarray,
    true: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    classes: list[str],
    path: str | Path,
    columns: int = 10,
) -> Path:
    """A gallery of misread test images (K, 28, 28), dark ink on white as on paper, each
    captioned 'true → predicted' and the network's confidence in its wrong answer."""
    caption = 8  # blank pixels above each image for its caption
    mosaic, _rows, columns = _mosaic(images.astype(float), columns=columns, above=caption)
    h, w = images.shape[1:]
    width = columns * 1.05
    # one image with the captions drawn on it, not an axes per digit: laying out a hundred
    # titled axes took seconds
    fig = Figure(figsize=(width, width * mosaic.shape[0] / mosaic.shape[1]))
    ax = fig.add_axes((0, 0, 1, 1))
    cmap = colormaps["gray_r"].with_extremes(bad="white")
    ax.imshow(mosaic, cmap=cmap, vmin=0, vmax=255, interpolation="nearest")
    ax.set_axis_off()
    for k, (t, p, c) in enumerate(zip(true, predicted, confidence, strict=True)):
        top, left = _tile_corner(k, columns, h, w, caption)
        ax.text(
            left + (w - 1) / 2,
            top - 1,
            f"{classes[t]}→{classes[p]} {c:.0%}",
            ha="center",
            va="bottom",
            fontsize=9,
            color="tab:red",
        )
    fig.savefig(path, dpi=DPI)
    return Path(path)


def plot_first_layer(weights: np.ndarray, path: str | Path, max_units: int = 256) -> Path:
    """Each hidden unit's incoming weights (a column of W1, 784 values) as a 28x28 tile: red
    where ink raises the unit's input, blue where it lowers it; each tile on its own scale."""
    units = min(weights.shape[1], max_units)
    shown = f"{units} of {weights.shape[1]}" if units < weights.shape[1] else f"all {units}"
    title = f"First layer: what each hidden unit looks for ({shown} units)"
    tiles = weights[:, :units].T.reshape(units, 28, 28)
    return _plot_signed_tiles(tiles, title, path, inch_per_tile=0.62, largest=10.0)


def plot_filters(weights: np.ndarray, path: str | Path) -> Path:
    """A conv net's first filters W1 (FN, C, FH, FW) as FN tiles (summed over the channels),
    red where ink raises the filter's output, blue where it lowers it, each on its own scale:
    the book's visualize_filter, in colour."""
    fh, fw = weights.shape[2:]
    title = f"First convolution: its {len(weights)} filters ({fh}x{fw})"
    return _plot_signed_tiles(weights.sum(axis=1), title, path, inch_per_tile=0.8, largest=8.0)


def _plot_signed_tiles(
    tiles: np.ndarray, title: str, path: str | Path, inch_per_tile: float, largest: float
) -> Path:
    """Weight tiles (K, H, W) in a grid, each scaled to its own largest magnitude, red for
    positive and blue for negative."""
    tiles = tiles.astype(float)
    scale = np.abs(tiles).max(axis=(1, 2), keepdims=True)
    mosaic, rows, columns = _mosaic(tiles / np.where(scale > 0, scale, 1))
    size = min(largest, max(3.0, columns * inch_per_tile))
    fig = Figure(figsize=(size, size * rows / columns + 0.5), layout="constrained")
    ax = fig.add_subplot()
    cmap = colormaps["RdBu_r"].with_extremes(bad="white")
    ax.imshow(mosaic, cmap=cmap, vmin=-1, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    ax.set_title(title)
    fig.savefig(path, dpi=DPI)
    return Path(path)


def _mosaic(
    tiles: np.ndarray, gap: float = np.nan, columns: int | None = None, above: int = 0
) -> tuple[np.ndarray, int, int]:
    """Tiles (K, H, W) laid out in a grid one cell apart, `above` more blank rows over each
    (room for a caption), `columns` wide (None: a near-square grid): (mosaic, rows, columns)."""
    count, h, w = tiles.shape
    columns = columns or int(np.ceil(np.sqrt(count)))
    rows = max(1, -(-count // columns))
    mosaic = np.full((rows * (h + 1 + above) - 1, columns * (w + 1) - 1), gap)
    for k in range(count):
        top, left = _tile_corner(k, columns, h, w, above)
        mosaic[top : top + h, left : left + w] = tiles[k]
    return mosaic, rows, columns


def _tile_corner(k: int, columns: int, h: int, w: int, above: int = 0) -> tuple[int, int]:
    """(top, left) pixel of tile k in `_mosaic`'s layout."""
    row, column = divmod(k, columns)
    return row * (h + 1 + above) + above, column * (w + 1)


def plot_feature_maps(image: np.ndarray, maps: np.ndarray, label: str, path: str | Path) -> Path:
    """One test digit (28, 28) beside what each first-layer filter finds in it: maps (FN, OH,
    OW), the first convolution's output after its activation, all on one scale."""
    mosaic, rows, columns = _mosaic(maps.astype(float))
    fig = Figure(figsize=(9.0, 4.0 * max(1.0, rows / columns) + 0.4), layout="constrained")
    digit_ax, maps_ax = fig.subplots(1, 2, width_ratios=(1, 3))
    digit_ax.imshow(image, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    digit_ax.set_title(f"a test digit ({label})")
    top = np.nanmax(mosaic) if np.isfinite(np.nanmax(mosaic)) and np.nanmax(mosaic) > 0 else 1.0
    cmap = colormaps["magma"].with_extremes(bad="white")
    maps_ax.imshow(mosaic, cmap=cmap, vmin=0, vmax=top, interpolation="nearest")
    maps_ax.set_title(f"its {len(maps)} feature maps after the first convolution")
    for ax in (digit_ax, maps_ax):
        ax.set_axis_off()
    fig.savefig(path, dpi=DPI)
    return Path(path)


def _epoch_picks(epochs: np.ndarray, most: int = 6) -> list[int]:
    """Indices of up to `most` records spread over the run, always the first and the last."""
    n = len(epochs)
    if n <= most:
        return list(range(n))
    return sorted({round(i * (n - 1) / (most - 1)) for i in range(most)})


def plot_activations(stats: dict[str, np.ndarray], path: str | Path) -> Path:
    """Per activation layer, the histogram of its outputs on the probe batch at several epochs
    (light: early, dark: late), with the fraction of saturated units."""
    names = [str(n) for n in stats["activation_names"]]
    epochs = stats["epochs"]
    picks = _epoch_picks(epochs)
    columns = min(3, max(1, len(names)))
    rows = -(-len(names) // columns)
    fig = Figure(figsize=(11, 3.2 * rows + 0.3), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    colour = colormaps["viridis_r"]
    norm = Normalize(vmin=float(epochs.min()), vmax=max(float(epochs.max()), 1.0))
    for ax in axes[len(names) :]:
        ax.set_axis_off()
    for i, (ax, name) in enumerate(zip(axes, names, strict=False)):
        for j in picks:
            counts = stats["activation_counts"][i, j]
            edges = stats["activation_edges"][i, j]
            density = counts / max(counts.sum(), 1)
            label = f"epoch {epochs[j]}: {stats['activation_saturated'][i, j]:.0%} saturated"
            ax.stairs(density, edges, color=colour(norm(epochs[j])), label=label, linewidth=1.3)
        ax.set_yscale("log")
        ax.set(title=name, xlabel="activation", ylabel="fraction of units")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper center")
    fig.suptitle("Activations on a fixed probe batch (saturated: slope < 0.02, gradient cut 50x)")
    fig.savefig(path, dpi=DPI)
    return Path(path)


def plot_gradients(stats: dict[str, np.ndarray], path: str | Path) -> Path:
    """Histograms of log10 |gradient| of each weight matrix at several epochs, and the
    root-mean-square gradient of every tensor per epoch (log scale): layers whose gradients
    are orders of magnitude smaller than the last layer's learn that much more slowly."""
    names = [str(n) for n in stats["gradient_names"]]
    epochs = stats["epochs"]
    picks = _epoch_picks(epochs)
    matrices = [i for i, name in enumerate(names) if name.startswith("W")] or list(
        range(len(names))
    )
    panels = len(matrices) + 1
    columns = min(3, panels)
    rows = -(-panels // columns)
    fig = Figure(figsize=(11, 3.2 * rows + 0.3), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, columns, squeeze=False)).ravel()
    for ax in axes[panels:]:
        ax.set_axis_off()
    colour = colormaps["viridis_r"]
    norm = Normalize(vmin=float(epochs.min()), vmax=max(float(epochs.max()), 1.0))
    edges = stats["gradient_edges"]
    for ax, i in zip(axes, matrices, strict=False):
        for j in picks:
            counts = stats["gradient_counts"][i, j]
            density = counts / max(counts.sum(), 1)
            zero = stats["gradient_zero"][i, j]
            label = f"epoch {epochs[j]}" + (f" ({zero:.0%} exactly 0)" if zero >= 0.005 else "")
            ax.stairs(density, edges, color=colour(norm(epochs[j])), label=label, linewidth=1.3)
        occupied = np.flatnonzero(stats["gradient_counts"][i].sum(axis=0))
        if occupied.size:
            ax.set_xlim(edges[occupied[0]] - 0.5, edges[occupied[-1] + 1] + 0.5)
        ax.set(title=f"{names[i]}: gradient", xlabel="log10 |gradient|", ylabel="fraction")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7, loc="upper left")
    rms_ax = axes[len(matrices)]
    for i, name in enumerate(names):
        style = "-" if name.startswith("W") else ":"
        rms = np.where(stats["gradient_rms"][i] > 0, stats["gradient_rms"][i], np.nan)
        rms_ax.plot(epochs, rms, style, marker="o", markersize=3, label=name)
    rms_ax.set_yscale("log")
    rms_ax.set(title="Gradient size per epoch", xlabel="epoch", ylabel="RMS gradient")
    rms_ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    rms_ax.grid(alpha=0.3)
    rms_ax.legend(fontsize=7, ncols=2)
    fig.suptitle("Gradients at the first step (epoch 0) and at each epoch's last step")
    fig.savefig(path, dpi=DPI)
    return Path(path)

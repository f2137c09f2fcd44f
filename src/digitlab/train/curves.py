"""The curves of a History: the loss per step beside the accuracy per epoch (`History.plot`),
drawn with matplotlib's object API (no pyplot state, safe in threads and servers).

matplotlib is imported where a figure is drawn: it takes most of a second to import, which
every `import digitlab` (and every command line) would otherwise pay.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over `window` points (shorter at the start), same length."""
    values = np.asarray(values, dtype=float)
    cumsum = np.concatenate([[0.0], np.cumsum(values)])
    stop = np.arange(1, len(values) + 1)
    start = np.maximum(0, stop - max(1, window))
    return (cumsum[stop] - cumsum[start]) / (stop - start)


def history_figure(history) -> Figure:
    """The loss per step beside the accuracy per epoch, as one figure (`History.plot`)."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(11, 3.8), layout="constrained")
    loss_axes, accuracy_axes = fig.subplots(1, 2)
    draw_loss(loss_axes, history)
    draw_accuracy(accuracy_axes, history)
    return fig


def draw_loss(ax, history) -> None:
    """The loss of every step, light, under its moving average over a tenth of an epoch (drawn
    only when every loss is finite: one NaN of a diverged run would blank the rest of it), a
    thin line where each epoch ends, and the y axis cut at the 99.5th percentile, so that the
    first steps' losses do not flatten the rest."""
    steps = np.arange(1, len(history.loss) + 1)
    loss = np.asarray(history.loss, dtype=float)
    finite = np.isfinite(loss)
    ax.plot(steps, loss, color="tab:blue", alpha=0.25, linewidth=0.8, label="per step")
    window = max(1, history.steps_per_epoch // 10)
    if finite.all() and len(loss):
        ax.plot(steps, smooth(loss, window), color="tab:blue", label=f"mean of {window}")
    per_epoch = max(1, history.steps_per_epoch)
    for epoch in range(1, history.epochs):
        ax.axvline(epoch * per_epoch, color="0.85", linewidth=0.6, zorder=0)
    ax.set(xlabel="step (mini-batch)", ylabel="loss (cross-entropy)", title="Training loss")
    if finite.any():
        ax.set_ylim(0, max(float(np.percentile(loss[finite], 99.5)) * 1.05, 1e-3))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")


def draw_accuracy(ax, history) -> None:
    """Train, test and validation accuracy per epoch, the y axis from a little below the lowest
    (at most 0.85) to 1: the last points of a run above 95% stay apart."""
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, history.epochs + 1)
    ax.plot(epochs, history.train_acc, marker="o", label="train")
    if history.test_acc:
        ax.plot(epochs, history.test_acc, marker="s", linestyle="--", label="test")
    if history.val_acc:
        ax.plot(epochs, history.val_acc, marker="^", linestyle=":", label="validation")
    low = min([*history.train_acc, *history.test_acc, *history.val_acc, 0.9])
    ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy per epoch")
    ax.set_ylim(max(0.0, low - 0.05), 1.0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")

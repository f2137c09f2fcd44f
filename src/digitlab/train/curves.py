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
    steps = np.arange(1, len(history.loss) + 1)
    ax.plot(steps, history.loss, color="tab:blue", alpha=0.3, linewidth=0.8, label="per step")
    window = max(1, history.steps_per_epoch // 10)
    ax.plot(steps, smooth(history.loss, window), color="tab:blue", label=f"mean of {window}")
    ax.set(xlabel="step (mini-batch)", ylabel="loss (cross-entropy)", title="Training loss")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()


def draw_accuracy(ax, history) -> None:
    from matplotlib.ticker import MaxNLocator

    epochs = np.arange(1, history.epochs + 1)
    ax.plot(epochs, history.train_acc, marker="o", label="train")
    if history.test_acc:
        ax.plot(epochs, history.test_acc, marker="s", linestyle="--", label="test")
    if history.val_acc:
        ax.plot(epochs, history.val_acc, marker="^", linestyle=":", label="validation")
    ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")

"""The two plots every learner draws: the loss curve and accuracy per epoch.

Figures are made with matplotlib's object API (no pyplot state), so plotting works headless and
from threads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from digitlab.train.history import History


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average over `window` points (shorter at the start), same length."""
    values = np.asarray(values, dtype=float)
    cumsum = np.concatenate([[0.0], np.cumsum(values)])
    stop = np.arange(1, len(values) + 1)
    start = np.maximum(0, stop - max(1, window))
    return (cumsum[stop] - cumsum[start]) / (stop - start)


def plot_loss(history: History, path: str | Path) -> Path:
    """Mini-batch loss per step (raw, and smoothed over about a tenth of an epoch) to a PNG."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    steps = np.arange(1, len(history.loss) + 1)
    ax.plot(steps, history.loss, color="tab:blue", alpha=0.3, linewidth=0.8, label="per step")
    window = max(1, history.steps_per_epoch // 10)
    ax.plot(steps, smooth(history.loss, window), color="tab:blue", label=f"mean of {window}")
    ax.set(xlabel="step (mini-batch)", ylabel="loss (cross-entropy)", title="Training loss")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=100)
    return Path(path)


def plot_accuracy(history: History, path: str | Path) -> Path:
    """Train and test accuracy per epoch, y from 0 to 1, to a PNG."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    epochs = np.arange(1, history.epochs + 1)
    ax.plot(epochs, history.train_acc, marker="o", label="train")
    if history.test_acc:
        ax.plot(epochs, history.test_acc, marker="s", linestyle="--", label="test")
    ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    fig.savefig(path, dpi=100)
    return Path(path)

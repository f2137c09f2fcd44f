"""The plots every learner draws: the loss curve and accuracy per epoch, a prediction, and
the trials of a hyperparameter search (their settings, their order, which settings mattered).

Figures are made with matplotlib's object API (no pyplot state), so plotting works headless and
from threads.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from digitlab.train.curves import draw_accuracy, draw_loss
from digitlab.train.history import History


def plot_loss(history: History, path: str | Path) -> Path:
    """Mini-batch loss per step (raw, and smoothed over about a tenth of an epoch) to a PNG."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    draw_loss(fig.add_subplot(), history)
    fig.savefig(path, dpi=100)
    return Path(path)


def plot_accuracy(history: History, path: str | Path) -> Path:
    """Train and test accuracy per epoch, y from 0 to 1, to a PNG."""
    fig = Figure(figsize=(7, 4), layout="constrained")
    draw_accuracy(fig.add_subplot(), history)
    fig.savefig(path, dpi=100)
    return Path(path)


def plot_prediction(prediction, path: str | Path) -> Path:
    """A picture as read by `digitlab predict`: the original with the ink's box, the ink
    separated from the background, the 28x28 image the network saw, and the probabilities.

    prediction: a digitlab.imaging.Prediction (with its preprocessing steps).
    """
    from matplotlib.patches import Rectangle

    steps = prediction.steps
    fig = Figure(figsize=(11, 3.2), layout="constrained")
    original_ax, ink_ax, seen_ax, bars_ax = fig.subplots(1, 4, width_ratios=[1, 1, 1, 1.3])
    picture = steps.original
    if picture.shape[2] == 1:
        original_ax.imshow(picture[:, :, 0], cmap="gray", vmin=0, vmax=1)
    else:
        original_ax.imshow(picture)
    top, left, bottom, right = steps.box
    original_ax.add_patch(
        Rectangle(
            (left - 0.5, top - 0.5),
            right - left,
            bottom - top,
            fill=False,
            edgecolor="tab:red",
            linewidth=1.5,
        )
    )
    polarity = "dark ink on light" if steps.dark_ink else "light ink on dark"
    original_ax.set_title(f"original ({polarity})", fontsize=10)
    ink_ax.imshow(steps.ink, cmap="gray", vmin=0, vmax=1)
    ink_ax.set_title("ink, background removed", fontsize=10)
    seen_ax.imshow(prediction.input, cmap="gray", vmin=0, vmax=1)
    seen_ax.set_title("what the network saw (28x28)", fontsize=10)
    for ax in (original_ax, ink_ax, seen_ax):
        ax.set_xticks([])
        ax.set_yticks([])
    classes = prediction.classes
    positions = np.arange(len(classes))
    colours = ["tab:blue"] * len(classes)
    colours[int(np.argmax(prediction.probabilities))] = "tab:red"
    bars_ax.bar(positions, prediction.probabilities, color=colours)
    bars_ax.set_xticks(positions, classes)
    bars_ax.set(ylim=(0, 1), title=f"read as {prediction.label} ({prediction.confidence:.0%})")
    bars_ax.grid(alpha=0.3, axis="y")
    fig.savefig(path, dpi=100)
    return Path(path)


def plot_search(result, path: str | Path) -> Path:
    """Validation accuracy of every random-search trial against its learning rate and its
    weight decay (log axes where the values allow), coloured by hidden size, the best starred.

    result: a digitlab.workflows.search.SearchResult.
    """
    trials = result.trials
    accuracy = np.array([trial.val_acc for trial in trials])
    hidden = np.array([",".join(map(str, trial.config.hidden)) for trial in trials])
    best = result.best
    fig = Figure(figsize=(10, 4), layout="constrained")
    axes = fig.subplots(1, 2, sharey=True)
    for ax, key, label in zip(
        axes, ("lr", "weight_decay"), ("learning rate", "weight decay"), strict=True
    ):
        values = np.array([getattr(trial.config, key) for trial in trials])
        for size in sorted(set(hidden), key=lambda s: [int(n) for n in s.split(",")]):
            chosen = hidden == size
            ax.scatter(values[chosen], accuracy[chosen], alpha=0.8, label=f"hidden {size}")
        ax.scatter(
            getattr(best.config, key),
            best.val_acc,
            marker="*",
            s=300,
            facecolors="none",
            edgecolors="tab:red",
            linewidths=1.5,
            label=f"best (trial {best.number})",
        )
        if np.all(values > 0):  # a log axis has no place for 0 (no weight decay)
            ax.set_xscale("log")
        ax.set(xlabel=label)
        ax.grid(alpha=0.3, which="both")
    axes[0].set(ylabel="validation accuracy", title="Accuracy vs learning rate")
    axes[1].set(title="Accuracy vs weight decay")
    axes[1].legend(loc="best", fontsize=8)
    fig.savefig(path, dpi=100)
    return Path(path)


def plot_search_history(result, path: str | Path) -> Path:
    """Each trial's validation accuracy in the order the trials were made (pruned trials
    hollow), and the best so far as a step line: Optuna's optimization history.

    result: a digitlab.workflows.search.SearchResult.
    """
    trials = sorted(result.trials, key=lambda trial: trial.number)
    numbers = np.array([trial.number for trial in trials])
    accuracy = np.array([trial.val_acc for trial in trials])
    pruned = np.array(
        [trial.epochs < result.base.epochs and bool(trial.stopped) for trial in trials]
    )
    fig = Figure(figsize=(7, 4), layout="constrained")
    ax = fig.add_subplot()
    ax.scatter(numbers[~pruned], accuracy[~pruned], color="tab:blue", label="trial")
    if pruned.any():
        ax.scatter(
            numbers[pruned], accuracy[pruned], facecolors="none", edgecolors="tab:blue",
            label="stopped early (pruned)",
        )  # fmt: skip
    ax.step(
        numbers, np.maximum.accumulate(accuracy), where="post", color="tab:red", label="best so far"
    )
    ax.set_xlabel("trial")
    ax.set_ylabel("validation accuracy")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_title(f"{result.sampler} sampler, pruner: {result.pruner}")
    ax.legend(loc="lower right")
    fig.savefig(path, dpi=100)
    return Path(path)


def plot_importances(importances: dict[str, float], path: str | Path) -> Path:
    """How much each searched setting mattered (Optuna's fANOVA importances), as bars."""
    names = sorted(importances, key=importances.get)
    fig = Figure(figsize=(6, 0.6 * len(names) + 1.4), layout="constrained")
    ax = fig.add_subplot()
    ax.barh(names, [importances[name] for name in names], color="tab:blue")
    ax.set_xlabel("importance for the validation accuracy (fANOVA, sums to 1)")
    ax.set_xlim(0, 1)
    fig.savefig(path, dpi=100)
    return Path(path)

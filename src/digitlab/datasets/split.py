"""A validation set split off the training data, at random and reproducibly.

The test set measures the finished model; choices made while training (when to stop, which
learning rate) need data of their own, or the test accuracy flatters the model.
"""

from __future__ import annotations

import numpy as np

from digitlab._validate import number
from digitlab.errors import ConfigError


def train_validation_split(
    x: np.ndarray,
    t: np.ndarray,
    fraction: float = 0.1,
    *,
    seed: int | None = 0,
    rng: np.random.Generator | None = None,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Split (x, t) into training and validation parts, each sample in exactly one.

    x: (N, ...) inputs; t: (N,) labels or (N, C) one-hot. The validation part takes
    round(fraction * N) samples chosen at random (at least 1, leaving at least 1), in the
    shuffled order; the training part keeps the rest in their original order.

    Args:
        fraction: share of the samples to hold out, in (0, 1).
        seed: seed of the choice; ignored when `rng` is given.
        rng: a numpy Generator to draw the choice from.

    Returns:
        ((x_train, t_train), (x_val, t_val)), copies; pass the second as
        `Trainer.fit(..., validation=...)`.
    """
    fraction = number(
        "fraction", fraction, low=0, high=1, low_open=True, high_open=True, example="0.1"
    )
    n = x.shape[0]
    if t.shape[0] != n or n < 2:
        raise ConfigError(
            f"cannot split {n} inputs and {t.shape[0]} labels: they need the same number of "
            "samples, at least 2."
        )
    rng = rng if rng is not None else np.random.default_rng(seed)
    n_val = min(max(round(fraction * n), 1), n - 1)
    order = rng.permutation(n)
    val = order[:n_val]
    train = np.sort(order[n_val:])
    return (x[train], t[train]), (x[val], t[val])

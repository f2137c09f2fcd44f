"""Optimizers: `update(params, grads)` over same-keys dicts, changing params in place."""

from __future__ import annotations

import numpy as np

from digitlab.errors import ConfigError


class SGD:
    """Plain stochastic gradient descent: p <- p - lr * dL/dp (a step *against* the gradient)."""

    def __init__(self, lr: float = 0.1) -> None:
        if not np.isfinite(lr) or lr <= 0:
            raise ConfigError(f"learning rate lr={lr!r} must be a positive number, e.g. 0.1.")
        self.lr = float(lr)

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for name, grad in grads.items():
            # In place, so layers holding the same arrays see the new values.
            params[name] -= self.lr * grad

    def __repr__(self) -> str:
        return f"SGD(lr={self.lr:g})"

"""Finite-difference gradients of any scalar function of an array, as the book computes them."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

#: the book's step: small enough for a good central difference, large enough to stay far above
#: float64 rounding of the loss
DEFAULT_H = 1e-4


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = DEFAULT_H
) -> np.ndarray:
    """Central difference (f(x + h e_i) - f(x - h e_i)) / 2h for every entry i of x.

    x: an array of any shape, perturbed in place one entry at a time and always restored, even
    when f raises. Returns an array of x's shape (float64 unless x is float32).
    """
    grad = np.zeros_like(x, dtype=np.result_type(x.dtype, np.float32))
    for index in np.ndindex(x.shape):
        grad[index] = central_difference(f, x, index, h)
    return grad


def sampled_numerical_gradient(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    count: int,
    rng: np.random.Generator,
    h: float = DEFAULT_H,
) -> tuple[tuple[np.ndarray, ...], np.ndarray]:
    """Central differences at `count` distinct random entries of x (all of them if fewer).

    Returns (index, values): index is a tuple of coordinate arrays, so `x[index]` are the
    entries and `values[k]` the difference quotient at the k-th. x is restored as above.
    """
    index, plus, minus = sampled_losses(f, x, count, rng, h)
    return index, (plus - minus) / (2 * h)


def sampled_losses(
    f: Callable[[np.ndarray], float],
    x: np.ndarray,
    count: int,
    rng: np.random.Generator,
    h: float = DEFAULT_H,
) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """f with each of `count` distinct random entries of x moved by +h and by -h: (index,
    f_plus, f_minus), so that with f(x) the one-sided differences can be formed as well as the
    central one. x is restored bit for bit."""
    chosen = rng.choice(x.size, size=min(count, x.size), replace=False)
    index = np.unravel_index(np.sort(chosen), x.shape)
    return (index, *losses_at(f, x, index, h))


def losses_at(
    f: Callable[[np.ndarray], float], x: np.ndarray, index: tuple[np.ndarray, ...], h: float
) -> tuple[np.ndarray, np.ndarray]:
    """(f_plus, f_minus): f with each entry of `index` (a tuple of coordinate arrays) of x moved
    by +h and by -h in turn; x is restored bit for bit."""
    pairs = [_losses_around(f, x, point, h) for point in zip(*index, strict=True)]
    plus = np.array([pair[0] for pair in pairs], dtype=np.float64)
    minus = np.array([pair[1] for pair in pairs], dtype=np.float64)
    return plus, minus


def central_difference(
    f: Callable[[np.ndarray], float], x: np.ndarray, index: tuple[int, ...], h: float
) -> float:
    """(f(x + h e) - f(x - h e)) / 2h along coordinate `index`; x[index] is restored bit for
    bit, even if f raises."""
    f_plus, f_minus = _losses_around(f, x, index, h)
    return (f_plus - f_minus) / (2 * h)


def _losses_around(
    f: Callable[[np.ndarray], float], x: np.ndarray, index: tuple[int, ...], h: float
) -> tuple[float, float]:
    """(f(x + h e), f(x - h e)) along coordinate `index`; x[index] restored even if f raises."""
    original = x[index].copy()
    try:
        x[index] = original + h
        f_plus = f(x)
        x[index] = original - h
        f_minus = f(x)
    finally:
        x[index] = original
    return f_plus, f_minus

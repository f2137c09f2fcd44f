"""Numerically stable activation and loss functions, shared by the layers.

None of these emits a RuntimeWarning for any finite input: the tests run with warnings as errors.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function 1 / (1 + e^-x), elementwise, for any finite x.

    Written as 0.5 * (1 + tanh(x / 2)): the same function, but tanh never overflows, so there is
    no `exp` of a large number to warn about, and it costs one ufunc instead of a sign split.
    """
    y = np.tanh(0.5 * x)
    y += 1.0
    y *= 0.5
    return y


def relu(x: np.ndarray) -> np.ndarray:
    """max(0, x) elementwise, as x * (x > 0): the form the ReLU layer computes."""
    return x * (x > 0)


def leaky_relu(x: np.ndarray, negative_slope: float = 0.01) -> np.ndarray:
    """x where x > 0, else negative_slope * x, elementwise: the form the LeakyReLU layer computes.

    The slope is a Python float, so a float32 x stays float32.
    """
    return np.where(x > 0, x, negative_slope * x)


def log_softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise log of the softmax. scores: (N, C) float -> (N, C), each row's exp sums to 1.

    Subtracting the row max (log-sum-exp) keeps every exponent <= 0, so nothing overflows.
    """
    shifted = _shift_by_row_max(scores)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def softmax(scores: np.ndarray) -> np.ndarray:
    """Row-wise softmax. scores: (N, C) or (C,) float -> same shape, each row sums to 1."""
    e = np.exp(_shift_by_row_max(scores))
    e /= e.sum(axis=-1, keepdims=True)
    return e


def softmax_cross_entropy(scores: np.ndarray, t: np.ndarray) -> tuple[float, np.ndarray]:
    """Mean cross-entropy of softmax(scores) against t, and the probabilities.

    scores: (N, C) float. t: (N,) int class indices, or (N, C) one-hot / soft targets.
    Returns (loss, probs) with probs: (N, C). The loss is the batch *mean*, so the right learning
    rate does not depend on the batch size.
    """
    shifted = _shift_by_row_max(scores)
    exp = np.exp(shifted)
    sums = exp.sum(axis=1, keepdims=True)
    probs = exp / sums
    log_sums = np.log(sums)
    n = scores.shape[0]
    if t.ndim == 1:
        # -log p[t] = log(sum exp) - shifted[t]: exact even where p[t] underflows to 0.
        loss = float(np.sum(log_sums[:, 0] - shifted[np.arange(n), t]) / n)
    else:
        log_probs = shifted - log_sums
        # Skip the zero targets: 0 * log(0) = 0 by convention, not 0 * -inf = nan.
        weighted = np.multiply(t, log_probs, out=np.zeros_like(log_probs), where=t != 0)
        loss = float(-weighted.sum() / n)
    return loss, probs


#: up to this many classes, a row's maximum is taken down the columns of the transposed scores
FEW_CLASSES = 64


def _shift_by_row_max(scores: np.ndarray) -> np.ndarray:
    if scores.ndim == 2 and scores.shape[1] <= FEW_CLASSES:
        # NumPy reduces short rows one at a time (14 µs for 100x10 float32, 1 ms for 10,000x10);
        # down the columns of a transposed copy it runs along whole rows of N (6 µs, 0.1 ms).
        # A maximum is exact, so the result is the same to the bit.
        row_max = np.ascontiguousarray(scores.T).max(axis=0)[:, None]
    else:
        row_max = scores.max(axis=-1, keepdims=True)
    # For finite scores spanning more than the float range (e.g. -1e308 and 1e308), the difference
    # overflows to -inf; exp(-inf) = 0 is the right limit, so that overflow is not an error.
    with np.errstate(over="ignore"):
        return scores - row_max

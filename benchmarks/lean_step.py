"""The leanest NumPy training epoch of a two-layer ReLU network we could write, as a peer: a
floor for any NumPy implementation, between the book-style loop and the bound of the matrix
products alone.

One architecture (affine, ReLU, affine, softmax with cross-entropy), SGD, nothing checked,
nothing recorded: every array is allocated once before the epoch, every elementwise operation
writes in place, the batch is gathered with `np.take` into a buffer, the gradient of the loss
with respect to the scores is scaled by the learning rate before the backward products (so the
products give the updates themselves), and the input's gradient is never computed. What this
costs above the five products is what NumPy's per-call overhead and the memory traffic of the
elementwise steps cost at these sizes.
"""

import numpy as np


def train_epoch_lean(
    params: dict[str, np.ndarray],
    x: np.ndarray,
    t: np.ndarray,
    order: np.ndarray,
    batch_size: int,
    lr: float,
) -> np.ndarray:
    """One epoch of SGD over x (N, D) float32 and labels t (N,) in the batches of `order`,
    updating params (W1 (D, H), b1 (H,), W2 (H, C), b2 (C,)) in place. Returns each step's
    mean cross-entropy (as digitlab records it)."""
    W1, b1, W2, b2 = params["W1"], params["b1"], params["W2"], params["b2"]
    dtype = W1.dtype
    hidden, classes = W2.shape
    rows = min(batch_size, len(order))
    x_batch = np.empty((rows, x.shape[1]), dtype)
    h = np.empty((rows, hidden), dtype)
    scores = np.empty((rows, classes), dtype)
    column = np.empty((rows, 1), dtype)
    dh = np.empty((rows, hidden), dtype)
    alive = np.empty((rows, hidden), bool)
    step_W1, step_W2 = np.empty_like(W1), np.empty_like(W2)
    step_b1, step_b2 = np.empty_like(b1), np.empty_like(b2)
    every_row = np.arange(rows)
    losses = np.empty(-(-len(order) // batch_size))
    for step, start in enumerate(range(0, len(order), batch_size)):
        batch = order[start : start + batch_size]
        n = len(batch)
        xb, hb, sb, cb, dhb, aliveb = x_batch[:n], h[:n], scores[:n], column[:n], dh[:n], alive[:n]
        np.take(x, batch, axis=0, out=xb, mode="clip")
        labels = t[batch]
        # forward: h = relu(x W1 + b1), scores = h W2 + b2
        np.matmul(xb, W1, out=hb)
        hb += b1
        np.greater(hb, 0, out=aliveb)
        np.maximum(hb, 0, out=hb)
        np.matmul(hb, W2, out=sb)
        sb += b2
        # softmax in place, then lr * (softmax - one-hot) / n: the scores' gradient times lr
        np.max(sb, axis=1, keepdims=True, out=cb)
        sb -= cb
        np.exp(sb, out=sb)
        np.sum(sb, axis=1, keepdims=True, out=cb)
        cb *= n / lr
        sb /= cb
        picked = sb[every_row[:n], labels]
        losses[step] = -np.log(picked * (n / lr)).mean()
        sb[every_row[:n], labels] = picked - lr / n
        # backward: the updates, straight from the products
        np.matmul(hb.T, sb, out=step_W2)
        np.sum(sb, axis=0, out=step_b2)
        np.matmul(sb, W2.T, out=dhb)
        np.multiply(dhb, aliveb, out=dhb)  # (a masked assignment, dhb[~alive] = 0, is 7x slower)
        np.matmul(xb.T, dhb, out=step_W1)
        np.sum(dhb, axis=0, out=step_b1)
        W1 -= step_W1
        b1 -= step_b1
        W2 -= step_W2
        b2 -= step_b2
    return losses

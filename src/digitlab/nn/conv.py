"""Convolution and pooling for images (N, C, H, W): the book's chapter 7, without its loops.

The book turns a convolution into one matrix product: `im2col` copies every filter-sized patch
of the input into a row, so that multiplying the rows by the filters (one column each) gives
every output pixel at once; `col2im` is its adjoint, adding each row's gradient back onto the
pixels it was copied from (a pixel inside several patches gets the sum).

Convolution here keeps each sample's patches as columns instead, (N, C*FH*FW, OH*OW) (the
transpose of the book's rows, sample by sample): the filters (FN, C*FH*FW) times one sample's
columns is that sample's output already in (FN, OH, OW) order, so the forward pass needs no
transposing copy of its output and the backward pass none of its gradient. The columns are one
copy of a strided view of the padded input (numpy's sliding_window_view), and their adjoint adds
them back with one strided add per kernel offset (9 for a 3x3 filter), each over the whole
batch, every channel and every output pixel: no Python loop runs over samples, pixels or
filters. The book's `im2col`/`col2im` layout is kept for learners who call them.

Shapes: x (N, C, H, W); filters W (FN, C, FH, FW), bias b (FN,); output (N, FN, OH, OW) with
OH = (H + 2*pad - FH) // stride + 1, and OW likewise.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from digitlab.errors import ConfigError
from digitlab.nn.layers import Layer, WeightedLayer


def output_size(size: int, kernel: int, stride: int, pad: int) -> int:
    """Output pixels along one side: (size + 2*pad - kernel) // stride + 1, or a ConfigError
    when the kernel does not fit."""
    padded = size + 2 * pad
    if kernel > padded:
        raise ConfigError(
            f"a {kernel}-pixel filter does not fit a side of {size} pixels with padding {pad}; "
            "use a smaller filter or more padding."
        )
    return (padded - kernel) // stride + 1


def columns(x: np.ndarray, fh: int, fw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """Every (fh, fw) patch of x (N, C, H, W), padded by `pad` zeros, as one column per output
    pixel: (N, C*fh*fw, OH*OW), each column laid out channel, row, column."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    patches = sliding_window_view(x, (fh, fw), axis=(2, 3))[:, :, ::stride, ::stride]
    n, c, oh, ow = patches.shape[:4]
    return np.ascontiguousarray(patches.transpose(0, 1, 4, 5, 2, 3)).reshape(
        n, c * fh * fw, oh * ow
    )


def add_columns(
    cols: np.ndarray, shape: tuple[int, ...], fh: int, fw: int, stride: int = 1, pad: int = 0
) -> np.ndarray:
    """The adjoint of `columns`: cols (N, C*fh*fw, OH*OW) added onto an image of `shape`
    (N, C, H, W) at the places `columns` read them from; padding is cut off."""
    n, c, h, w = shape
    oh, ow = output_size(h, fh, stride, pad), output_size(w, fw, stride, pad)
    patches = cols.reshape(n, c, fh, fw, oh, ow)
    out = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(fh):  # one strided add per kernel offset, each over the whole batch
        rows = slice(i, i + stride * (oh - 1) + 1, stride)
        for j in range(fw):
            out[:, :, rows, j : j + stride * (ow - 1) + 1 : stride] += patches[:, :, i, j]
    return out[:, :, pad : pad + h, pad : pad + w] if pad else out


def im2col(x: np.ndarray, fh: int, fw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """The book's im2col: x (N, C, H, W) -> (N*OH*OW, C*fh*fw), one row per output pixel
    (sample-major, then row, then column), its patch laid out channel, row, column."""
    cols = columns(x, fh, fw, stride, pad)
    return cols.transpose(0, 2, 1).reshape(-1, cols.shape[1])


def col2im(
    cols: np.ndarray, shape: tuple[int, ...], fh: int, fw: int, stride: int = 1, pad: int = 0
) -> np.ndarray:
    """The book's col2im, the adjoint of `im2col`: cols (N*OH*OW, C*fh*fw) -> (N, C, H, W)
    for an input of `shape`, each pixel receiving the sum over the patches that held it."""
    n = shape[0]
    per_sample = cols.reshape(n, -1, cols.shape[1]).transpose(0, 2, 1)
    return add_columns(per_sample, shape, fh, fw, stride, pad)


class Convolution(WeightedLayer):
    """A convolution layer (cross-correlation, as in every deep-learning library).

    Convolution(W, b, stride=1, pad=0) as in the book, or with `params=` a network's params
    dict and the names of W and b in it (then W and b are read from it at every pass).
    x: (N, C, H, W) -> (N, FN, OH, OW); W: (FN, C, FH, FW); b: (FN,).
    """

    book_name = "Conv"

    def __init__(
        self,
        W: np.ndarray | None = None,
        b: np.ndarray | None = None,
        stride: int = 1,
        pad: int = 0,
        *,
        params: dict[str, np.ndarray] | None = None,
        weight: str = "W",
        bias: str = "b",
    ) -> None:
        if params is None:  # the book's Convolution(W, b): a params dict of its own
            params, weight, bias = {"W": W, "b": b}, "W", "b"
        super().__init__(params, weight, bias)
        self.stride, self.pad = _positive("stride", stride), _positive("pad", pad, zero=True)
        self.x_shape: tuple[int, ...] | None = None
        self.cols: np.ndarray | None = None  # (N, C*FH*FW, OH*OW), kept for backward

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        fn, c, fh, fw = self.W.shape
        if x.ndim != 4 or x.shape[1] != c:
            raise ConfigError(
                f"{self!r} takes images (N, {c}, H, W), but got an array of shape {x.shape}; "
                "reshape the input to (N, channels, height, width)."
            )
        n, _, h, w = x.shape
        oh = output_size(h, fh, self.stride, self.pad)
        ow = output_size(w, fw, self.stride, self.pad)
        self.x_shape = x.shape
        self.cols = columns(x, fh, fw, self.stride, self.pad)
        out = np.matmul(self.W.reshape(fn, -1), self.cols)  # (N, FN, OH*OW)
        out += self.b[:, None]
        return out.reshape(n, fn, oh, ow)

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        fn, _, fh, fw = self.W.shape
        weight, bias = self.param_names
        dout = dout.reshape(len(dout), fn, -1)  # (N, FN, OH*OW)
        self.grads[bias] = dout.sum(axis=(0, 2))
        # one product per sample, then their sum: no transposed copy of dout or of the columns
        per_sample = np.matmul(dout, self.cols.transpose(0, 2, 1))
        self.grads[weight] = per_sample.sum(axis=0).reshape(self.W.shape)
        if not input_grad:
            return None
        dcols = np.matmul(self.W.reshape(fn, -1).T, dout)  # (N, C*FH*FW, OH*OW)
        return add_columns(dcols, self.x_shape, fh, fw, self.stride, self.pad)

    def __repr__(self) -> str:
        fn, c, fh, fw = self.W.shape
        return f"Convolution({c}→{fn}, {fh}x{fw}, stride {self.stride}, pad {self.pad})"


class Pooling(Layer):
    """Max (default) or average pooling over (pool_h, pool_w) windows, channel by channel.

    Pooling(pool_h, pool_w, stride=1, pad=0, mode="max") as in the book (whose default stride
    is 1; its networks pass stride=2 with 2x2 windows). Padding counts as -inf for max pooling
    (a padded cell never wins) and as 0 for average pooling (it counts in the mean), as in
    PyTorch. Max pooling's backward routes each window's gradient to the cell that won it (the
    first, in reading order, among equals). x: (N, C, H, W) -> (N, C, OH, OW).

    Both directions run one whole-batch elementwise operation per window cell (4 for 2x2) on
    strided views: no (N, C, OH, OW, cells) array is built and no argmax runs over a short last
    axis, which made pooling the slowest layer of the book's network. Backward finds the winners
    again by comparing each cell with the window's maximum, taking the first among equals.
    """

    book_name = "Pool"

    def __init__(
        self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0, mode: str = "max"
    ) -> None:
        super().__init__()
        if mode not in ("max", "average"):
            raise ConfigError(f"mode={mode!r}: pooling is 'max' or 'average'.")
        self.pool_h, self.pool_w = _positive("pool_h", pool_h), _positive("pool_w", pool_w)
        self.stride, self.pad = _positive("stride", stride), _positive("pad", pad, zero=True)
        if self.pad > min(self.pool_h, self.pool_w) // 2:
            raise ConfigError(
                f"pad={pad} is more than half the {self.pool_h}x{self.pool_w} window: some "
                "windows would hold only padding; use pad <= half the window's side."
            )
        self.mode = mode
        self.x_shape: tuple[int, ...] | None = None
        self.padded: np.ndarray | None = None  # the (padded) input, read again by backward
        self.out: np.ndarray | None = None

    def _cells(self, oh: int, ow: int):
        """For each window cell in reading order, the index of the strided view that holds that
        cell of every window."""
        s = self.stride
        for i in range(self.pool_h):
            for j in range(self.pool_w):
                yield (..., slice(i, i + s * (oh - 1) + 1, s), slice(j, j + s * (ow - 1) + 1, s))

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        if x.ndim != 4:
            raise ConfigError(
                f"{self!r} takes images (N, C, H, W), but got an array of shape {x.shape}."
            )
        oh = output_size(x.shape[2], self.pool_h, self.stride, self.pad)
        ow = output_size(x.shape[3], self.pool_w, self.stride, self.pad)
        self.x_shape = x.shape
        if self.pad:
            fill = -np.inf if self.mode == "max" else 0.0
            p = self.pad
            x = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
        cells = self._cells(oh, ow)
        out = x[next(cells)].copy()
        combine = np.maximum if self.mode == "max" else np.add
        for cell in cells:
            combine(out, x[cell], out=out)
        if self.mode == "average":
            out /= self.pool_h * self.pool_w
        self.padded, self.out = x, out
        return out

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:
            return None
        n, c, h, w = self.x_shape
        p = self.pad
        dx = np.zeros((n, c, h + 2 * p, w + 2 * p), dtype=dout.dtype)
        overlap = self.stride < max(self.pool_h, self.pool_w)  # a pixel in several windows
        if self.mode == "average":
            share = dout / (self.pool_h * self.pool_w)
            for cell in self._cells(*dout.shape[2:]):
                dx[cell] += share
        else:
            free = np.ones(dout.shape, dtype=bool)  # windows whose winner is not found yet
            won = np.empty(dout.shape, dtype=bool)
            for cell in self._cells(*dout.shape[2:]):
                np.equal(self.padded[cell], self.out, out=won)
                won &= free
                free ^= won
                if overlap:
                    dx[cell] += dout * won
                else:  # each pixel is in one window: write in place
                    np.multiply(dout, won, out=dx[cell])
        return dx[:, :, p : p + h, p : p + w] if p else dx

    def __repr__(self) -> str:
        return (
            f"Pooling({self.mode}, {self.pool_h}x{self.pool_w}, stride {self.stride}, "
            f"pad {self.pad})"
        )


class Flatten(Layer):
    """(N, C, H, W) -> (N, C*H*W), as the book's Affine does to a 4-D input before its
    product; backward restores the shape."""

    def __init__(self) -> None:
        super().__init__()
        self.x_shape: tuple[int, ...] | None = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        self.x_shape = x.shape
        return x.reshape(len(x), -1)

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        return dout.reshape(self.x_shape) if input_grad else None


def _positive(name: str, value, zero: bool = False) -> int:
    """value as an int >= 1 (>= 0 with zero=True), or a ConfigError naming `name`."""
    least = 0 if zero else 1
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise ConfigError(f"{name}={value!r} must be a whole number >= {least}.")
    return int(value)

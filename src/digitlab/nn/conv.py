"""Convolution and pooling for images (N, C, H, W): the book's chapter 7, without its loops.

The book turns a convolution into one matrix product: `im2col` copies every filter-sized patch
of the input into a row, so that multiplying the rows by the filters (one column each) gives
every output pixel at once; `col2im` is its adjoint, adding each row's gradient back onto the
pixels it was copied from (a pixel inside several patches gets the sum).

Here `im2col` is a strided view of the padded input (numpy's sliding_window_view: no copy until
the one reshape into rows) and `col2im` adds the rows back with one strided add per kernel
offset (9 for a 3x3 filter): each add covers the whole batch, every channel and every output
pixel, so no Python loop runs over samples, pixels or filters.

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


def windows(
    x: np.ndarray, fh: int, fw: int, stride: int = 1, pad: int = 0, fill: float = 0.0
) -> np.ndarray:
    """Every (fh, fw) patch of x (N, C, H, W) padded by `pad` pixels of `fill`, as a view
    (N, C, OH, OW, fh, fw) (a padded copy first when pad > 0)."""
    if pad:
        x = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=fill)
    return sliding_window_view(x, (fh, fw), axis=(2, 3))[:, :, ::stride, ::stride]


def im2col(x: np.ndarray, fh: int, fw: int, stride: int = 1, pad: int = 0) -> np.ndarray:
    """The book's im2col: x (N, C, H, W) -> (N*OH*OW, C*fh*fw), one row per output pixel
    (sample-major, then row, then column), its patch laid out channel, row, column."""
    n, c = x.shape[:2]
    patches = windows(x, fh, fw, stride, pad)
    oh, ow = patches.shape[2:4]
    return patches.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * fh * fw)


def add_windows(
    patches: np.ndarray, shape: tuple[int, ...], stride: int = 1, pad: int = 0
) -> np.ndarray:
    """The adjoint of `windows`: patches (N, C, OH, OW, fh, fw) added onto an image of `shape`
    (N, C, H, W) at the places `windows` read them from; padding is cut off."""
    n, c, h, w = shape
    _, _, oh, ow, fh, fw = patches.shape
    out = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=patches.dtype)
    for i in range(fh):  # one strided add per kernel offset, each over the whole batch
        rows = slice(i, i + stride * (oh - 1) + 1, stride)
        for j in range(fw):
            out[:, :, rows, j : j + stride * (ow - 1) + 1 : stride] += patches[..., i, j]
    return out[:, :, pad : pad + h, pad : pad + w] if pad else out


def col2im(
    cols: np.ndarray, shape: tuple[int, ...], fh: int, fw: int, stride: int = 1, pad: int = 0
) -> np.ndarray:
    """The book's col2im, the adjoint of `im2col`: cols (N*OH*OW, C*fh*fw) -> (N, C, H, W)
    for an input of `shape`, each pixel receiving the sum over the patches that held it."""
    n, c, h, w = shape
    oh, ow = output_size(h, fh, stride, pad), output_size(w, fw, stride, pad)
    patches = cols.reshape(n, oh, ow, c, fh, fw).transpose(0, 3, 1, 2, 4, 5)
    return add_windows(patches, shape, stride, pad)


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
        self.col: np.ndarray | None = None

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
        self.col = im2col(x, fh, fw, self.stride, self.pad)
        out = self.col @ self.W.reshape(fn, -1).T
        out += self.b
        return out.reshape(n, oh, ow, fn).transpose(0, 3, 1, 2)

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        fn, _, fh, fw = self.W.shape
        weight, bias = self.param_names
        rows = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.grads[bias] = rows.sum(axis=0)
        self.grads[weight] = (rows.T @ self.col).reshape(self.W.shape)
        if not input_grad:
            return None
        return col2im(rows @ self.W.reshape(fn, -1), self.x_shape, fh, fw, self.stride, self.pad)

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
        self.arg_max: np.ndarray | None = None

    def forward(self, x: np.ndarray, train: bool = True) -> np.ndarray:
        if x.ndim != 4:
            raise ConfigError(
                f"{self!r} takes images (N, C, H, W), but got an array of shape {x.shape}."
            )
        output_size(x.shape[2], self.pool_h, self.stride, self.pad)
        output_size(x.shape[3], self.pool_w, self.stride, self.pad)
        self.x_shape = x.shape
        fill = -np.inf if self.mode == "max" else 0.0
        patches = windows(x, self.pool_h, self.pool_w, self.stride, self.pad, fill)
        if self.mode == "average":
            return patches.mean(axis=(4, 5))
        flat = patches.reshape(*patches.shape[:4], -1)
        self.arg_max = flat.argmax(axis=4)
        return np.take_along_axis(flat, self.arg_max[..., None], axis=4).squeeze(4)

    def backward(self, dout: np.ndarray, input_grad: bool = True) -> np.ndarray | None:
        if not input_grad:
            return None
        cells = self.pool_h * self.pool_w
        if self.mode == "average":
            spread = np.broadcast_to((dout / cells)[..., None], (*dout.shape, cells))
        else:
            spread = np.zeros((*dout.shape, cells), dtype=dout.dtype)
            np.put_along_axis(spread, self.arg_max[..., None], dout[..., None], axis=4)
        patches = spread.reshape(*dout.shape, self.pool_h, self.pool_w)
        return add_windows(patches, self.x_shape, self.stride, self.pad)

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

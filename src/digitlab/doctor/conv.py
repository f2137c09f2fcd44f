"""Checks of a conv net's layers, one at a time: the bugs of the book's chapter 7.

A convolutional network can be wrong in ways the gradient check never sees: an `im2col` whose
patches are laid out in another order than `W.reshape(FN, -1)` (backward is consistent with it,
so the network trains, badly), a pooling backward that sends the gradient to a cell that did not
win, an output size computed without the padding, images handed over channels last. Each layer
the network holds (`network.layers`, an OrderedDict by the book's names or a list) that looks
like a convolution (a 4-D `W`, `stride`, `pad`) or a pooling (`pool_h`, `pool_w`) is run on the
input it gets in the network and compared with digitlab's own (nn/conv.py); findings name the
layer. The walk goes on with digitlab's output where the layer's is wrong, so that one bug is
not reported again by every layer after it.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from digitlab.doctor.context import FAILED, Context
from digitlab.doctor.findings import ERROR
from digitlab.nn.conv import Convolution, Pooling

#: relative agreement for a layer's output to count as the same as digitlab's (float32 layers
#: agree with the float64 reference to about 1e-6)
SAME = 1e-4
#: samples the layers are checked on (enough to see every kind of window)
SAMPLES = 8


def check_conv_layers(ctx: Context) -> None:
    """input-layout, conv-output-size, conv-wrong and pooling-wrong, naming the layer."""
    layers = named_layers(ctx.network)
    first = _first_convolution(layers)
    if first is None or np.ndim(ctx.x) < 2:
        return
    x = np.asarray(ctx.x[:SAMPLES], dtype=np.float64)
    x = _in_layout(ctx, x, np.shape(first[1].W)[1], first[0])
    if x is None:
        return
    rng = np.random.default_rng(ctx.seed)
    for name, layer in layers:
        if is_convolution(layer):
            x = _check_convolution(ctx, name, layer, x)
        elif is_pooling(layer):
            x = _check_pooling(ctx, name, layer, x, rng)
        else:
            x = _forward(layer, x)
        if x is None:
            return


def images_for(network, x: np.ndarray) -> np.ndarray:
    """Rows x (N, D) as the square images (N, C, side, side) the network's first convolution
    takes, for a caller that loaded the data as rows (`digitlab doctor MODULE:FACTORY`); x
    unchanged for a network without convolutions or rows that are not such images."""
    first = _first_convolution(named_layers(network))
    if first is None or x.ndim != 2:
        return x
    channels = np.shape(first[1].W)[1]
    side = round(np.sqrt(x.shape[1] / channels))
    if channels * side * side != x.shape[1]:
        return x
    return x.reshape(len(x), channels, side, side)


def named_layers(network) -> list[tuple[str, object]]:
    """The network's layers in order with their names: the keys of an OrderedDict (the book's
    `Conv1`, `Pool1`), digitlab's book names, or 'layer k' (1-based)."""
    layers = getattr(network, "layers", None)
    if isinstance(layers, Mapping):
        return [(str(name), layer) for name, layer in layers.items()]
    if not isinstance(layers, (list, tuple)):
        return []
    keys = getattr(layers, "keys", None)
    names = list(keys()) if callable(keys) else []
    if len(names) != len(layers):
        names = [f"layer {k}" for k in range(1, len(layers) + 1)]
    return list(zip(names, layers, strict=True))


def is_convolution(layer) -> bool:
    W = getattr(layer, "W", None)
    return (
        isinstance(W, np.ndarray)
        and W.ndim == 4
        and hasattr(layer, "stride")
        and hasattr(layer, "pad")
        and callable(getattr(layer, "forward", None))
    )


def is_pooling(layer) -> bool:
    return all(hasattr(layer, a) for a in ("pool_h", "pool_w", "forward", "backward"))


def _first_convolution(layers: list[tuple[str, object]]) -> tuple[str, object] | None:
    """(name, layer) of the first convolution among named layers, or None."""
    return next(((name, layer) for name, layer in layers if is_convolution(layer)), None)


def _in_layout(ctx: Context, x: np.ndarray, channels: int, name: str) -> np.ndarray | None:
    """x as (N, C, H, W) for the first convolution, with an input-layout finding where the
    learner's array is laid out otherwise (channels last, or flattened rows) and the network
    fails on it but runs on the fixed layout (a network that reshapes its input itself is
    fine)."""
    if x.ndim == 4 and x.shape[1] == channels:
        return x
    side = round(np.sqrt(x[0].size / channels))
    if x.ndim == 4 and x.shape[3] == channels:
        variant, fixed = "channels-last", x.transpose(0, 3, 1, 2)
    elif x.ndim in (2, 3) and channels * side * side == x[0].size:
        variant, fixed = "flat", x.reshape(len(x), channels, side, side)
    else:
        return None
    if _runs(ctx, x[:2]) or not _runs(ctx, fixed[:2]):
        return fixed
    shape = "x".join(map(str, ctx.x.shape))
    ctx.add("input-layout", ERROR, name, variant, shape=shape, channels=channels, side=side)
    return fixed


def _runs(ctx: Context, x: np.ndarray) -> bool:
    """Whether the network's predict (else loss) goes through on x without raising."""
    if callable(getattr(ctx.network, "predict", None)):
        return ctx.call("predict", x, report=False) is not FAILED
    t = np.asarray(ctx.t)[: len(x)]
    return ctx.call("loss", x, t, report=False) is not FAILED


def _forward(layer, x: np.ndarray) -> np.ndarray | None:
    try:
        with np.errstate(all="ignore"):
            out = layer.forward(x)
    except Exception:  # the learner's layer: examine() reports what predict() raises
        return None
    return np.asarray(out, dtype=np.float64) if isinstance(out, np.ndarray) else None


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and bool(np.allclose(a, b, rtol=SAME, atol=SAME * np.abs(b).max()))


def _check_convolution(ctx: Context, name: str, layer, x: np.ndarray) -> np.ndarray | None:
    W = np.asarray(layer.W, dtype=np.float64)
    b = np.asarray(getattr(layer, "b", np.zeros(len(W))), dtype=np.float64).reshape(-1)
    try:
        stride, pad = int(layer.stride), int(layer.pad)
        expected = Convolution(W, b, stride, pad).forward(x)
    except Exception:  # a filter that does not fit: predict() raises, and examine() says so
        return None
    _, _, fh, fw = W.shape
    size = "{}x{}".format(*expected.shape[2:])
    setting = dict(filter=f"{fh}x{fw}", stride=stride, pad=pad, input="{}x{}".format(*x.shape[2:]))
    try:
        with np.errstate(all="ignore"):
            out = np.asarray(layer.forward(x.astype(W.dtype)), dtype=np.float64)
    except ValueError as exc:  # a reshape to a size computed wrongly fails this way
        if "reshape" in str(exc) or "broadcast" in str(exc):
            ctx.add("conv-output-size", ERROR, name, "raised", expected=size, **setting)
        return expected
    except Exception:
        return expected
    if out.shape != expected.shape:
        got = "x".join(map(str, out.shape[2:])) if out.ndim == 4 else "x".join(map(str, out.shape))
        ctx.add("conv-output-size", ERROR, name, got=got, expected=size, **setting)
        return expected
    if _same(out, expected):
        return out
    if fh == fw and _same(out, Convolution(W.transpose(0, 1, 3, 2), b, stride, pad).forward(x)):
        ctx.add("conv-wrong", ERROR, name, "patch-transposed", **setting)
    elif x.shape[2] == x.shape[3] and _same(out, expected.transpose(0, 1, 3, 2)):
        ctx.add("conv-wrong", ERROR, name, "pixels-transposed", **setting)
    else:
        error = float(np.abs(out - expected).max() / max(np.abs(expected).max(), 1e-12))
        ctx.add("conv-wrong", ERROR, name, relative_error=error, **setting)
    return expected


def _check_pooling(
    ctx: Context, name: str, layer, x: np.ndarray, rng: np.random.Generator
) -> np.ndarray | None:
    try:
        reference = Pooling(
            int(layer.pool_h),
            int(layer.pool_w),
            int(getattr(layer, "stride", 1)),
            int(getattr(layer, "pad", 0)),
            getattr(layer, "mode", "max"),  # digitlab's average pooling; the book's is max
        )
        expected = reference.forward(x)
    except Exception:
        return None
    setting = dict(pool=f"{reference.pool_h}x{reference.pool_w}", stride=reference.stride)
    out = _forward(layer, x)
    if out is None or not _same(out, expected):
        ctx.add("pooling-wrong", ERROR, name, "forward", **setting)
        return expected
    dout = rng.standard_normal(expected.shape)
    try:
        with np.errstate(all="ignore"):
            dx = np.asarray(layer.backward(dout.copy()), dtype=np.float64)
    except Exception:
        return expected
    truth = reference.backward(dout)
    if dx.shape != truth.shape:
        ctx.add("pooling-wrong", ERROR, name, "backward-shape", got=str(dx.shape), **setting)
        return expected
    # windows whose maximum is shared (zeros after ReLU) may send it to any of the tied cells:
    # judge only the pixels of windows with one winner
    unique = _unique_winner_pixels(x, reference)
    wrong = unique & ~np.isclose(dx, truth, rtol=SAME, atol=SAME * np.abs(dout).max())
    if wrong.any():
        share = float(np.count_nonzero(wrong) / max(np.count_nonzero(unique), 1))
        ctx.add("pooling-wrong", ERROR, name, "backward", share=share, **setting)
    return expected


def _unique_winner_pixels(x: np.ndarray, pooling: Pooling) -> np.ndarray:
    """True at the pixels whose every window (they may be in several) has a single maximum."""
    p, s = pooling.pad, pooling.stride
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
    windows = sliding_window_view(padded, (pooling.pool_h, pooling.pool_w), axis=(2, 3))
    windows = windows[:, :, ::s, ::s]
    tied = (windows == windows.max(axis=(4, 5), keepdims=True)).sum(axis=(4, 5)) > 1
    # spread each tied window back onto its pixels (average pooling's backward is the adjoint)
    spreader = Pooling(pooling.pool_h, pooling.pool_w, s, p, "average")
    spreader.forward(x)
    return spreader.backward(tied.astype(np.float64)) == 0

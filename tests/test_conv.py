"""Convolution, pooling, im2col/col2im: against loops written out plainly, and every backward
against central differences (odd sizes, stride 2 and padding included)."""

import numpy as np
import pytest

from digitlab.errors import ConfigError
from digitlab.nn.conv import Convolution, Flatten, Pooling, col2im, im2col

#: (input shape, filter shape, stride, pad)
CONV_CASES = [
    ((2, 3, 7, 6), (4, 3, 3, 2), 1, 0),
    ((2, 3, 7, 6), (4, 3, 3, 3), 2, 1),
    ((3, 1, 5, 5), (2, 1, 5, 5), 1, 0),
    ((1, 2, 9, 8), (3, 2, 4, 3), 3, 2),
]


def padded(x, pad, fill=0.0):
    return np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)), constant_values=fill)


def naive_im2col(x, fh, fw, stride, pad):
    """One row per output pixel, written out with loops."""
    xp = padded(x, pad)
    n, _, h, w = xp.shape
    rows = []
    for i in range(n):
        for r in range(0, h - fh + 1, stride):
            for col in range(0, w - fw + 1, stride):
                rows.append(xp[i, :, r : r + fh, col : col + fw].reshape(-1))
    return np.array(rows)


def naive_conv(x, W, b, stride, pad):
    xp = padded(x, pad)
    fn, _, fh, fw = W.shape
    oh = (xp.shape[2] - fh) // stride + 1
    ow = (xp.shape[3] - fw) // stride + 1
    out = np.zeros((x.shape[0], fn, oh, ow))
    for i in range(x.shape[0]):
        for f in range(fn):
            for r in range(oh):
                for col in range(ow):
                    patch = xp[i, :, r * stride : r * stride + fh, col * stride : col * stride + fw]
                    out[i, f, r, col] = np.sum(patch * W[f]) + b[f]
    return out


def naive_pool(x, ph, pw, stride, pad, mode):
    xp = padded(x, pad, -np.inf if mode == "max" else 0.0)
    oh = (xp.shape[2] - ph) // stride + 1
    ow = (xp.shape[3] - pw) // stride + 1
    out = np.zeros((*x.shape[:2], oh, ow))
    for r in range(oh):
        for col in range(ow):
            window = xp[:, :, r * stride : r * stride + ph, col * stride : col * stride + pw]
            reduce = np.max if mode == "max" else np.mean
            out[:, :, r, col] = reduce(window, axis=(2, 3))
    return out


def central_differences(f, array, h=1e-6):
    """d f / d array, every coordinate, perturbing `array` in place (restored)."""
    grad = np.zeros_like(array)
    for index in np.ndindex(array.shape):
        saved = array[index]
        array[index] = saved + h
        plus = f()
        array[index] = saved - h
        minus = f()
        array[index] = saved
        grad[index] = (plus - minus) / (2 * h)
    return grad


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "pad"), CONV_CASES)
def test_im2col_matches_the_loops_and_col2im_is_its_adjoint(x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape)
    fh, fw = w_shape[2:]
    cols = im2col(x, fh, fw, stride, pad)
    np.testing.assert_array_equal(cols, naive_im2col(x, fh, fw, stride, pad))
    # <im2col(x), c> == <x, col2im(c)> for every x and c: col2im is the transpose
    c = rng.standard_normal(cols.shape)
    assert np.vdot(cols, c) == pytest.approx(np.vdot(x, col2im(c, x_shape, fh, fw, stride, pad)))


@pytest.mark.parametrize(("x_shape", "w_shape", "stride", "pad"), CONV_CASES)
def test_convolution_forward_and_every_gradient(x_shape, w_shape, stride, pad):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(x_shape)
    W, b = rng.standard_normal(w_shape), rng.standard_normal(w_shape[0])
    layer = Convolution(W, b, stride=stride, pad=pad)
    out = layer.forward(x)
    np.testing.assert_allclose(out, naive_conv(x, W, b, stride, pad), rtol=1e-12, atol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)

    def f():
        return float(np.sum(layer.forward(x) * dout))

    np.testing.assert_allclose(dx, central_differences(f, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(layer.dW, central_differences(f, W), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(layer.db, central_differences(f, b), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize(
    ("x_shape", "pool", "stride", "pad"),
    [((2, 3, 6, 6), 2, 2, 0), ((2, 2, 7, 5), 3, 2, 1), ((1, 2, 5, 6), 2, 1, 0)],
)
def test_pooling_forward_and_gradient(mode, x_shape, pool, stride, pad):
    rng = np.random.default_rng(2)
    # distinct values, at least 1e-3 apart: no tie, and no perturbation changes a winner
    x = rng.permutation(np.prod(x_shape)).reshape(x_shape) * 1e-2
    layer = Pooling(pool, pool, stride=stride, pad=pad, mode=mode)
    out = layer.forward(x)
    np.testing.assert_allclose(out, naive_pool(x, pool, pool, stride, pad, mode), rtol=1e-12)
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    expected = central_differences(lambda: float(np.sum(layer.forward(x) * dout)), x)
    np.testing.assert_allclose(dx, expected, rtol=1e-6, atol=1e-7)


def test_max_pooling_routes_to_the_winning_cell_only():
    x = np.array([[[[1.0, 5.0], [3.0, 2.0]]]])
    layer = Pooling(2, 2, stride=2)
    assert layer.forward(x).item() == 5.0
    np.testing.assert_array_equal(layer.backward(np.array([[[[7.0]]]])), [[[[0, 7], [0, 0]]]])


@pytest.mark.parametrize(("pool", "stride", "pad"), [(2, 2, 0), (3, 2, 1), (2, 1, 0)])
def test_max_pooling_gives_a_tied_window_gradient_to_its_first_winner_only(pool, stride, pad):
    # after ReLU most windows are tied (all zeros): the gradient must go to one cell, the first
    # in reading order as the book's argmax gives it, never to every tied cell
    rng = np.random.default_rng(4)
    x = rng.integers(0, 3, size=(2, 3, 7, 6)).astype(float)
    layer = Pooling(pool, pool, stride=stride, pad=pad)
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape)
    expected = np.zeros_like(padded(x, pad))
    xp = padded(x, pad, -np.inf)
    for index in np.ndindex(out.shape):
        n, c, r, col = index
        window = xp[n, c, r * stride : r * stride + pool, col * stride : col * stride + pool]
        i, j = np.unravel_index(np.argmax(window), window.shape)
        expected[n, c, r * stride + i, col * stride + j] += dout[index]
    expected = expected[:, :, pad : pad + 7, pad : pad + 6]
    np.testing.assert_allclose(layer.backward(dout), expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_is_kept(dtype):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 1, 8, 8)).astype(dtype)
    conv = Convolution(rng.standard_normal((3, 1, 3, 3)).astype(dtype), np.zeros(3, dtype))
    pool, flat = Pooling(2, 2, stride=2), Flatten()
    out = flat.forward(pool.forward(conv.forward(x)))
    assert out.dtype == dtype and out.shape == (2, 3 * 3 * 3)
    dx = conv.backward(pool.backward(flat.backward(np.ones_like(out))))
    assert dx.dtype == dtype and dx.shape == x.shape
    assert conv.dW.dtype == dtype


def test_layers_sharing_a_params_dict_see_its_changes():
    params = {"W1": np.ones((1, 1, 2, 2)), "b1": np.zeros(1)}
    conv = Convolution(params=params, weight="W1", bias="b1")
    x = np.ones((1, 1, 3, 3))
    assert conv.forward(x)[0, 0, 0, 0] == 4.0
    params["W1"] = params["W1"] * 2  # replaced, as an optimizer may do
    assert conv.forward(x)[0, 0, 0, 0] == 8.0
    conv.backward(np.ones((1, 1, 2, 2)))
    assert set(conv.grads) == {"W1", "b1"}


def test_bad_shapes_and_settings_name_the_fix():
    conv = Convolution(np.zeros((2, 3, 3, 3)), np.zeros(2))
    with pytest.raises(ConfigError, match=r"takes images \(N, 3, H, W\).*shape \(4, 784\)"):
        conv.forward(np.zeros((4, 784)))
    with pytest.raises(ConfigError, match="does not fit"):
        conv.forward(np.zeros((1, 3, 2, 2)))
    with pytest.raises(ConfigError, match="stride=0"):
        Convolution(np.zeros((2, 3, 3, 3)), np.zeros(2), stride=0)
    with pytest.raises(ConfigError, match="half the 2x2 window"):
        Pooling(2, 2, pad=2)
    with pytest.raises(ConfigError, match="'max' or 'average'"):
        Pooling(2, 2, mode="min")

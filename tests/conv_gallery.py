"""A conv net as a learner writes it from the book's chapter 7, and the bugs learners plant in it.

Plain NumPy in the book's style (an OrderedDict of layers with forward/backward, im2col looping
over the filter's offsets), written for these tests; each bug is a keyword of LearnerConvNet:

* transposed_patches: im2col lays each patch out (C, FW, FH) instead of (C, FH, FW), col2im the
  same way: backward agrees with forward, so only a look at the layer finds it;
* transposed_pixels: im2col's rows go (N, OW, OH), and forward reads them back as (N, OH, OW);
* mirrored_pooling: max pooling's backward sends each window's gradient to the mirror image of
  the winning cell;
* padding_once: the output size counts the padding on one side only.
"""

from collections import OrderedDict

import numpy as np

#: the doctor's codes these networks plant (tests/test_doctor_conv.py)
CODES = frozenset({"input-layout", "conv-output-size", "conv-wrong", "pooling-wrong"})
BOOK_ORDER = (0, 4, 5, 1, 2, 3)  # (N, OH, OW, C, FH, FW): a patch laid out channel, row, column
TRANSPOSED_ORDER = (0, 4, 5, 1, 3, 2)  # (N, OH, OW, C, FW, FH)
PIXELS_TRANSPOSED_ORDER = (0, 5, 4, 1, 2, 3)  # rows (N, OW, OH), read back as (N, OH, OW)


def out_size(size, kernel, stride, pad, padding_once=False):
    return (size + (pad if padding_once else 2 * pad) - kernel) // stride + 1


def im2col(x, fh, fw, stride=1, pad=0, order=BOOK_ORDER, padding_once=False):
    n, c, h, w = x.shape
    oh = out_size(h, fh, stride, pad, padding_once)
    ow = out_size(w, fw, stride, pad, padding_once)
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    col = np.zeros((n, c, fh, fw, oh, ow), dtype=x.dtype)
    for i in range(fh):
        for j in range(fw):
            col[:, :, i, j] = img[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride]
    return col.transpose(order).reshape(n * oh * ow, -1)


def col2im(col, shape, fh, fw, stride=1, pad=0, order=BOOK_ORDER):
    n, c, h, w = shape
    oh, ow = out_size(h, fh, stride, pad), out_size(w, fw, stride, pad)
    sizes = dict(zip((0, 4, 5, 1, 2, 3), (n, oh, ow, c, fh, fw), strict=True))
    col = col.reshape([sizes[axis] for axis in order]).transpose(np.argsort(order))
    img = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), dtype=col.dtype)
    for i in range(fh):
        for j in range(fw):
            img[:, :, i : i + stride * oh : stride, j : j + stride * ow : stride] += col[:, :, i, j]
    return img[:, :, pad : h + pad, pad : w + pad]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0, order=BOOK_ORDER, padding_once=False):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad
        self.order, self.padding_once = order, padding_once

    def forward(self, x):
        fn, _, fh, fw = self.W.shape
        n, _, h, w = x.shape
        oh = out_size(h, fh, self.stride, self.pad, self.padding_once)
        ow = out_size(w, fw, self.stride, self.pad, self.padding_once)
        self.x = x
        self.col = im2col(x, fh, fw, self.stride, self.pad, self.order)
        self.col_W = self.W.reshape(fn, -1).T  # the book's (C, FH, FW) order, whatever im2col's
        out = self.col @ self.col_W + self.b
        return out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)

    def backward(self, dout):
        fn = self.W.shape[0]
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.db = dout.sum(axis=0)
        self.dW = (self.col.T @ dout).T.reshape(self.W.shape)
        dcol = dout @ self.col_W.T
        _, _, fh, fw = self.W.shape
        return col2im(dcol, self.x.shape, fh, fw, self.stride, self.pad, self.order)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0, mirrored=False):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad
        self.mirrored = mirrored

    def forward(self, x):
        n, c, h, w = x.shape
        oh, ow = out_size(h, self.pool_h, self.stride, 0), out_size(w, self.pool_w, self.stride, 0)
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.x, self.arg_max = x, np.argmax(col, axis=1)
        return col.max(axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)

    def backward(self, dout):
        size = self.pool_h * self.pool_w
        dout = dout.transpose(0, 2, 3, 1)
        cell = size - 1 - self.arg_max if self.mirrored else self.arg_max
        dmax = np.zeros((dout.size, size))
        dmax[np.arange(dout.size), cell] = dout.ravel()
        dcol = dmax.reshape(-1, size * dout.shape[3])
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout = dout.copy()
        dout[self.mask] = 0
        return dout


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b

    def forward(self, x):
        self.shape = x.shape
        self.x = x.reshape(len(x), -1)
        return self.x @ self.W + self.b

    def backward(self, dout):
        self.dW, self.db = self.x.T @ dout, dout.sum(axis=0)
        return (dout @ self.W.T).reshape(self.shape)


class LearnerConvNet:
    """Conv(filters, 5x5, pad) - ReLU - Pool(2x2) - Affine(hidden) - ReLU - Affine(10)."""

    def __init__(
        self,
        filters=4,
        hidden=20,
        pad=0,
        seed=0,
        transposed_patches=False,
        transposed_pixels=False,
        mirrored_pooling=False,
        padding_once=False,
    ):
        rng = np.random.default_rng(seed)
        side = (28 + 2 * pad - 5 + 1) // 2
        self.params = {
            "W1": 0.1 * rng.standard_normal((filters, 1, 5, 5)),
            "b1": 0.01 * rng.standard_normal(filters),
            "W2": 0.05 * rng.standard_normal((filters * side * side, hidden)),
            "b2": np.zeros(hidden),
            "W3": 0.1 * rng.standard_normal((hidden, 10)),
            "b3": np.zeros(10),
        }
        order = TRANSPOSED_ORDER if transposed_patches else BOOK_ORDER
        order = PIXELS_TRANSPOSED_ORDER if transposed_pixels else order
        p = self.params
        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(p["W1"], p["b1"], 1, pad, order, padding_once)
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(2, 2, stride=2, mirrored=mirrored_pooling)
        self.layers["Affine1"] = Affine(p["W2"], p["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(p["W3"], p["b3"])

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        scores = self.predict(x)
        scores = scores - scores.max(axis=1, keepdims=True)
        log_probs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
        self.probs, self.t = np.exp(log_probs), t
        return -log_probs[np.arange(len(t)), t].mean()

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.probs.copy()
        dout[np.arange(len(self.t)), self.t] -= 1
        dout /= len(self.t)
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        names = {"Conv1": ("W1", "b1"), "Affine1": ("W2", "b2"), "Affine2": ("W3", "b3")}
        for layer, (w, b) in names.items():
            grads[w], grads[b] = self.layers[layer].dW, self.layers[layer].db
        return grads

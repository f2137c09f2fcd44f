"""Plain book-style networks (Deep Learning from Scratch, chapters 5 and 7), as peers.

Written here, not imported from digitlab, so the benchmarks compare digitlab with what a learner
writes by following the book: layers in an OrderedDict, the book's softmax over the transposed
batch, cross-entropy with the 1e-7 guard, dx computed for every layer, SGD on the dict; for
the conv net, im2col/col2im with one loop over the filter's rows and columns (vectorized over
the batch and the pixels, as the book writes them) and max pooling through im2col and argmax.
"""

from collections import OrderedDict

import numpy as np


class Affine:
    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.dW = self.db = None

    def forward(self, x):
        self.x_shape = x.shape  # an image batch is flattened, and restored in backward
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(self.x_shape)


class Relu:
    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        return dout


def softmax(x):
    x = x.T
    x = x - np.max(x, axis=0)
    y = np.exp(x) / np.sum(np.exp(x), axis=0)
    return y.T


def cross_entropy_error(y, t):
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class SoftmaxWithLoss:
    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        return cross_entropy_error(self.y, self.t)

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        dx = self.y.copy()
        dx[np.arange(batch_size), self.t] -= 1
        return dx / batch_size


def im2col(x, fh, fw, stride=1, pad=0):
    n, c, h, w = x.shape
    oh, ow = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], "constant")
    col = np.zeros((n, c, fh, fw, oh, ow), dtype=x.dtype)
    for y in range(fh):
        y_max = y + stride * oh
        for x_ in range(fw):
            col[:, :, y, x_, :, :] = img[:, :, y:y_max:stride, x_ : x_ + stride * ow : stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(n * oh * ow, -1)


def col2im(col, shape, fh, fw, stride=1, pad=0):
    n, c, h, w = shape
    oh, ow = (h + 2 * pad - fh) // stride + 1, (w + 2 * pad - fw) // stride + 1
    col = col.reshape(n, oh, ow, c, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((n, c, h + 2 * pad + stride - 1, w + 2 * pad + stride - 1), dtype=col.dtype)
    for y in range(fh):
        y_max = y + stride * oh
        for x_ in range(fw):
            img[:, :, y:y_max:stride, x_ : x_ + stride * ow : stride] += col[:, :, y, x_, :, :]
    return img[:, :, pad : h + pad, pad : w + pad]


class Convolution:
    def __init__(self, W, b, stride=1, pad=0):
        self.W, self.b, self.stride, self.pad = W, b, stride, pad

    def forward(self, x):
        fn, _, fh, fw = self.W.shape
        n, _, h, w = x.shape
        oh = (h + 2 * self.pad - fh) // self.stride + 1
        ow = (w + 2 * self.pad - fw) // self.stride + 1
        self.x = x
        self.col = im2col(x, fh, fw, self.stride, self.pad)
        self.col_W = self.W.reshape(fn, -1).T
        out = np.dot(self.col, self.col_W) + self.b
        return out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)

    def backward(self, dout):
        fn, c, fh, fw = self.W.shape
        dout = dout.transpose(0, 2, 3, 1).reshape(-1, fn)
        self.db = np.sum(dout, axis=0)
        self.dW = np.dot(self.col.T, dout).transpose(1, 0).reshape(fn, c, fh, fw)
        dcol = np.dot(dout, self.col_W.T)
        return col2im(dcol, self.x.shape, fh, fw, self.stride, self.pad)


class Pooling:
    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad

    def forward(self, x):
        n, c, h, w = x.shape
        oh = (h - self.pool_h) // self.stride + 1
        ow = (w - self.pool_w) // self.stride + 1
        col = im2col(x, self.pool_h, self.pool_w, self.stride, self.pad)
        col = col.reshape(-1, self.pool_h * self.pool_w)
        self.x, self.arg_max = x, np.argmax(col, axis=1)
        return np.max(col, axis=1).reshape(n, oh, ow, c).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dcol = dmax.reshape((*dout.shape, size))
        dcol = dcol.reshape(dcol.shape[0] * dcol.shape[1] * dcol.shape[2], -1)
        return col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, self.pad)


class BookNetwork:
    """The book's loop over `layers` (an OrderedDict) and `lastLayer`; gradients read from each
    weighted layer's dW/db under the names in `grad_names`."""

    def __init__(self, params, layers, grad_names):
        self.params, self.layers, self.grad_names = params, layers, grad_names
        self.lastLayer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        return self.lastLayer.forward(self.predict(x), t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = self.lastLayer.backward(1)
        for layer in reversed(list(self.layers.values())):
            dout = layer.backward(dout)
        grads = {}
        for layer_name, (weight, bias) in self.grad_names.items():
            grads[weight] = self.layers[layer_name].dW
            grads[bias] = self.layers[layer_name].db
        return grads


class BookSimpleConvNet(BookNetwork):
    """Chapter 7's SimpleConvNet: Conv(30 5x5) - ReLU - Pool(2x2, stride 2) - Affine(100) -
    ReLU - Affine(10), from given weights W1..W3, b1..b3."""

    def __init__(self, params):
        layers = OrderedDict()
        layers["Conv1"] = Convolution(params["W1"], params["b1"])
        layers["Relu1"] = Relu()
        layers["Pool1"] = Pooling(2, 2, stride=2)
        layers["Affine1"] = Affine(params["W2"], params["b2"])
        layers["Relu2"] = Relu()
        layers["Affine2"] = Affine(params["W3"], params["b3"])
        names = {"Conv1": ("W1", "b1"), "Affine1": ("W2", "b2"), "Affine2": ("W3", "b3")}
        super().__init__(params, layers, names)


class BookTwoLayerNet(BookNetwork):
    """Chapter 5's TwoLayerNet: Affine - ReLU - Affine, from given weights."""

    def __init__(self, W1, b1, W2, b2):
        params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        layers = OrderedDict()
        layers["Affine1"] = Affine(params["W1"], params["b1"])
        layers["Relu1"] = Relu()
        layers["Affine2"] = Affine(params["W2"], params["b2"])
        super().__init__(params, layers, {"Affine1": ("W1", "b1"), "Affine2": ("W2", "b2")})


def train_epoch(network, x, t, order, batch_size: int, lr: float) -> None:
    """One epoch in the book's loop: gradient, then params[key] -= lr * grad[key]."""
    for start in range(0, len(order), batch_size):
        batch = order[start : start + batch_size]
        grad = network.gradient(x[batch], t[batch])
        for key in network.params:
            network.params[key] -= lr * grad[key]

# gradient descent on the 8x8 digits, numpy only
# usage: python train.py digits8x8.npz
import sys

import numpy as np

np.random.seed(4)


def init_param():
    w1 = np.random.rand(10, 64)
    b1 = np.random.rand(10, 1)
    w2 = np.random.rand(10, 10)
    b2 = np.random.rand(10, 1)
    return w1, b1, w2, b2


def ReLU(z):
    return np.maximum(0, z)


def dReLU(z):
    return z > 0


def tanh(z):
    return np.tanh(z)


def dtanh(z):
    return 1 - np.tanh(z) ** 2


def forward_prop(w1, b1, w2, b2, x):
    z1 = w1.dot(x) + b1
    a1 = ReLU(z1)
    z2 = w2.dot(a1) + b2
    a2 = tanh(z2)
    return z1, a1, z2, a2


def one_hot(y):
    out = np.zeros((10, 1))
    out[y, 0] = 1
    return out


def back_prop(z1, a1, z2, a2, w2, x, y):
    target = one_hot(y)
    dz2 = (a2 - target) * tanh(z2)
    dw2 = dz2.dot(a1.T)
    db2 = dz2
    dz1 = w2.T.dot(dz2) * dReLU(z1)
    dw1 = dz1.dot(x.T)
    db1 = dz1
    return dw1, db1, dw2, db2


def update_param(w1, b1, w2, b2, dw1, db1, dw2, db2, lr):
    w1 = w1 - lr * dw1
    b1 = b1 - lr * db1
    w2 = w2 - lr * dw2
    b2 = b2 - lr * db2
    return w1, b1, w2, b2


def accuracy(y_true, y_pred):
    return np.mean(np.array(y_true) == np.array(y_pred))


def gradient_descent(X, Y, max_iter, lr):
    w1, b1, w2, b2 = init_param()
    m = len(X)
    for it in range(max_iter):
        predictions = []
        dw1 = db1 = dw2 = db2 = None
        for x, y in zip(X, Y):
            x = x.reshape(-1, 1)
            z1, a1, z2, a2 = forward_prop(w1, b1, w2, b2, x)
            g = back_prop(z1, a1, z2, a2, w2, x, y)
            if dw1 is None:
                dw1, db1, dw2, db2 = g
            else:
                dw1 += g[0]
                db1 += g[1]
                dw2 += g[2]
                db2 += g[3]
            predictions.append(np.argmax(a2))
        w1, b1, w2, b2 = update_param(w1, b1, w2, b2, dw1, db1, dw2, db2, lr * (1 / m))
        print('iter', it, 'accuracy', accuracy(Y, predictions))
    return w1, b1, w2, b2


data = np.load(sys.argv[1])
X, Y = data['X'], data['y']
gradient_descent(X, Y, 40, 0.1)

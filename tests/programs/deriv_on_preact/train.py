# Vectorised two-layer network, samples as columns: X is (784, m)
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np


def load_data(folder, m=10000):
    with gzip.open(folder + '/train-images-idx3-ubyte.gz') as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:m].T / 255.0
    with gzip.open(folder + '/train-labels-idx1-ubyte.gz') as f:
        Y = np.frombuffer(f.read(), np.uint8, offset=8)[:m]
    return X, Y


def init_params(n_x, n_h, n_y):
    w1 = np.random.randn(n_h, n_x) * 0.1
    b1 = np.zeros((n_h, 1))
    w2 = np.random.randn(n_y, n_h) * 0.1
    b2 = np.zeros((n_y, 1))
    return w1, b1, w2, b2


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def sigmoid_prime(a):
    # derivative written with the output of the sigmoid
    return a * (1 - a)


def softmax(z):
    e = np.exp(z - z.max(axis=0))
    return e / e.sum(axis=0)


def forward_prop(w1, b1, w2, b2, X):
    z1 = w1 @ X + b1
    a1 = sigmoid(z1)
    z2 = w2 @ a1 + b2
    a2 = softmax(z2)
    return z1, a1, z2, a2


def one_hot(Y):
    out = np.zeros((10, Y.size))
    out[Y, np.arange(Y.size)] = 1
    return out


def back_prop(z1, a1, z2, a2, w2, X, Y):
    m = Y.size
    dz2 = a2 - one_hot(Y)
    dw2 = dz2 @ a1.T / m
    db2 = dz2.sum(axis=1, keepdims=True) / m
    dz1 = (w2.T @ dz2) * sigmoid_prime(z1)
    dw1 = dz1 @ X.T / m
    db1 = dz1.sum(axis=1, keepdims=True) / m
    return dw1, db1, dw2, db2


def update_param(w1, b1, w2, b2, dw1, db1, dw2, db2, lr):
    w1 = w1 - lr * dw1
    b1 = b1 - lr * db1
    w2 = w2 - lr * dw2
    b2 = b2 - lr * db2
    return w1, b1, w2, b2


def gradient_descent(X, Y, iterations, lr):
    w1, b1, w2, b2 = init_params(784, 40, 10)
    for i in range(iterations):
        cols = np.random.choice(Y.size, 256, replace=False)
        Xb, Yb = X[:, cols], Y[cols]
        z1, a1, z2, a2 = forward_prop(w1, b1, w2, b2, Xb)
        dw1, db1, dw2, db2 = back_prop(z1, a1, z2, a2, w2, Xb, Yb)
        w1, b1, w2, b2 = update_param(w1, b1, w2, b2, dw1, db1, dw2, db2, lr)
        if i % 5 == 0:
            loss = -np.mean(np.log(a2[Yb, np.arange(Yb.size)] + 1e-12))
            print('iteration', i, 'loss', loss, 'accuracy', np.mean(a2.argmax(axis=0) == Yb))
    return w1, b1, w2, b2


np.random.seed(21)
X, Y = load_data(sys.argv[1])
gradient_descent(X, Y, 100, 1.0)

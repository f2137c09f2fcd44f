# I want to understand backprop, so one sample at a time, then one update per batch.
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np


def read(folder):
    with gzip.open(folder + '/train-images-idx3-ubyte.gz', 'rb') as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(float) / 255
    with gzip.open(folder + '/train-labels-idx1-ubyte.gz', 'rb') as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return X[:3000], y[:3000]


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def forward(x, w1, b1, w2, b2):
    z1 = np.dot(w1, x) + b1          # (30,)
    a1 = sigmoid(z1)
    z2 = np.dot(w2, a1) + b2         # (10,)
    a2 = sigmoid(z2)
    return a1, a2


def backward(x, t, a1, a2, w2):
    d2 = (a2 - t) * a2 * (1 - a2)
    d1 = np.dot(w2.T, d2) * a1 * (1 - a1)
    return np.outer(d1, x), d1, np.outer(d2, a1), d2


def train(X, y, epochs=2, batch_size=100, lr=0.5):
    w1 = np.random.randn(30, 784) / np.sqrt(784)
    b1 = np.zeros(30)
    w2 = np.random.randn(10, 30) / np.sqrt(30)
    b2 = np.zeros(10)
    for epoch in range(epochs):
        for start in range(0, len(X), batch_size):
            gw1 = np.zeros_like(w1)
            gb1 = np.zeros_like(b1)
            gw2 = np.zeros_like(w2)
            gb2 = np.zeros_like(b2)
            total = 0.0
            for x, label in zip(X[start:start + batch_size], y[start:start + batch_size]):
                t = np.zeros(10)
                t[label] = 1
                a1, a2 = forward(x, w1, b1, w2, b2)
                total += 0.5 * np.sum((a2 - t) ** 2)
                dw1, db1, dw2, db2 = backward(x, t, a1, a2, w2)
                gw1 += dw1
                gb1 += db1
                gw2 += dw2
                gb2 += db2
            w1 -= lr * gw1
            b1 -= lr * gb1
            w2 -= lr * gw2
            b2 -= lr * gb2
            print('epoch', epoch, 'batch', start // batch_size, 'cost', total / batch_size)
    return w1, b1, w2, b2


if __name__ == '__main__':
    np.random.seed(18)
    X, y = read(sys.argv[1])
    train(X, y)

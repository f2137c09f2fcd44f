# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np


def get_mnist(folder, n=10000):
    with gzip.open(folder + "/train-images-idx3-ubyte.gz", "rb") as f:
        x = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    with gzip.open(folder + "/train-labels-idx1-ubyte.gz", "rb") as f:
        y = np.frombuffer(f.read(), dtype=np.uint8, offset=8)
    x = x.reshape(-1, 784)[:n].astype(np.float32) / 255.0
    return x, y[:n].astype(np.int64)


def init_params():
    w1 = np.random.rand(784, 64)
    b1 = np.random.rand(1, 64)
    w2 = np.random.rand(64, 10)
    b2 = np.random.rand(1, 10)
    return w1, b1, w2, b2


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    z = z - np.max(z, axis=1, keepdims=True)
    return np.exp(z) / np.sum(np.exp(z), axis=1, keepdims=True)


def forward_prop(w1, b1, w2, b2, x):
    z1 = x.dot(w1) + b1
    a1 = sigmoid(z1)
    z2 = a1.dot(w2) + b2
    a2 = softmax(z2)
    return z1, a1, z2, a2


def one_hot(y):
    oh = np.zeros((y.size, 10))
    oh[np.arange(y.size), y] = 1
    return oh


def backward_prop(z1, a1, z2, a2, w2, x, y):
    m = x.shape[0]
    dz2 = a2 - one_hot(y)
    dw2 = a1.T.dot(dz2) / m
    db2 = np.sum(dz2, axis=0, keepdims=True) / m
    dz1 = dz2.dot(w2.T) * a1 * (1 - a1)
    dw1 = x.T.dot(dz1) / m
    db1 = np.sum(dz1, axis=0, keepdims=True) / m
    return dw1, db1, dw2, db2


def update_params(w1, b1, w2, b2, dw1, db1, dw2, db2, alpha):
    w1 = w1 - alpha * dw1
    b1 = b1 - alpha * db1
    w2 = w2 - alpha * dw2
    b2 = b2 - alpha * db2
    return w1, b1, w2, b2


def get_accuracy(a2, y):
    return np.mean(np.argmax(a2, axis=1) == y)


def gradient_descent(x, y, iterations, alpha, batch=250):
    w1, b1, w2, b2 = init_params()
    for i in range(iterations):
        start = (i * batch) % x.shape[0]
        xb, yb = x[start:start + batch], y[start:start + batch]
        z1, a1, z2, a2 = forward_prop(w1, b1, w2, b2, xb)
        dw1, db1, dw2, db2 = backward_prop(z1, a1, z2, a2, w2, xb, yb)
        w1, b1, w2, b2 = update_params(w1, b1, w2, b2, dw1, db1, dw2, db2, alpha)
        if i % 10 == 0:
            loss = -np.mean(np.log(a2[np.arange(len(yb)), yb] + 1e-9))
            print("Iteration:", i, "loss:", round(loss, 4), "accuracy:", get_accuracy(a2, yb))
    return w1, b1, w2, b2


np.random.seed(14)
X_train, Y_train = get_mnist(sys.argv[1])
gradient_descent(X_train, Y_train, 200, 0.5)

# Port of my Octave (ex4) network to numpy.
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np


def read_images(path):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0


def read_labels(path):
    with gzip.open(path) as f:
        return np.frombuffer(f.read(), np.uint8, offset=8).astype(int)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def init_weights(n_in, n_hid, n_out):
    eps1 = np.sqrt(6) / np.sqrt(n_in + n_hid)
    eps2 = np.sqrt(6) / np.sqrt(n_hid + n_out)
    W1 = np.random.rand(n_in, n_hid) * 2 * eps1 - eps1
    W2 = np.random.rand(n_hid, n_out) * 2 * eps2 - eps2
    return W1, np.zeros(n_hid), W2, np.zeros(n_out)


def forward(X, W1, b1, W2, b2):
    h = sigmoid(X @ W1 + b1)
    p = softmax(h @ W2 + b2)
    return h, p


def cost(p, Y):
    return -np.sum(Y * np.log(p + 1e-9)) / Y.shape[0]


def gradients(X, Y, h, p, W2):
    m = X.shape[0]
    d3 = (p - Y) / m
    d2 = (d3 @ W2.T) * h * (1 - h)
    return X.T @ d2, d2.sum(0), h.T @ d3, d3.sum(0)


def step(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha):
    return W1 - alpha * dW1, b1 - alpha * db1, W2 - alpha * dW2, b2 - alpha * db2


np.random.seed(12)
X = read_images(sys.argv[1] + '/train-images-idx3-ubyte.gz')
y = read_labels(sys.argv[1] + '/train-labels-idx1-ubyte.gz')

# classes are 1..10 like in Octave
Y = (np.arange(1, 11) == y.reshape(-1, 1)).astype(float)

W1, b1, W2, b2 = init_weights(784, 64, 10)
alpha = 1.0
for it in range(150):
    idx = np.random.choice(len(X), 200, replace=False)
    h, p = forward(X[idx], W1, b1, W2, b2)
    dW1, db1, dW2, db2 = gradients(X[idx], Y[idx], h, p, W2)
    W1, b1, W2, b2 = step(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha)
    if it % 10 == 0:
        h, p = forward(X, W1, b1, W2, b2)
        pred = np.argmax(p, axis=1) + 1
        print('iter', it, 'cost', cost(p, Y), 'accuracy', np.mean(pred == y))

# hand-written tanh network
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np

np.random.seed(33)

with gzip.open(sys.argv[1] + '/train-images-idx3-ubyte.gz', 'rb') as f:
    X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(float)
with gzip.open(sys.argv[1] + '/train-labels-idx1-ubyte.gz', 'rb') as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8)
Y = np.eye(10)[y]


def tanh(z):
    return (np.exp(z) - np.exp(-z)) / (np.exp(z) + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


W1 = np.random.randn(784, 64)
b1 = np.zeros(64)
W2 = np.random.randn(64, 10)
b2 = np.zeros(10)
lr = 0.01

for epoch in range(50):
    idx = np.random.randint(0, X.shape[0], 100)
    x, t = X[idx], Y[idx]
    h = tanh(x @ W1 + b1)
    p = softmax(h @ W2 + b2)
    loss = -np.mean(np.sum(t * np.log(p + 1e-8), axis=1))
    d2 = (p - t) / len(x)
    d1 = (d2 @ W2.T) * (1 - h ** 2)
    W2 -= lr * h.T @ d2
    b2 -= lr * d2.sum(axis=0)
    W1 -= lr * x.T @ d1
    b1 -= lr * d1.sum(axis=0)
    print('epoch', epoch, 'loss', loss)

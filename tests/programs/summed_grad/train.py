# MNIST, ReLU hidden layer, softmax output, mini-batches of 256
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np

np.random.seed(17)

with gzip.open(sys.argv[1] + "/train-images-idx3-ubyte.gz") as fp:
    images = np.frombuffer(fp.read(), np.uint8, offset=16).reshape(-1, 784)
with gzip.open(sys.argv[1] + "/train-labels-idx1-ubyte.gz") as fp:
    labels = np.frombuffer(fp.read(), np.uint8, offset=8)

X = images.astype(np.float32) / 255
Y = np.zeros((len(labels), 10), dtype=np.float32)
Y[np.arange(len(labels)), labels] = 1

W1 = np.random.randn(784, 100).astype(np.float32) * 0.05
b1 = np.zeros(100, dtype=np.float32)
W2 = np.random.randn(100, 10).astype(np.float32) * 0.1
b2 = np.zeros(10, dtype=np.float32)

lr = 0.1
bs = 256
it = 0
for epoch in range(2):
    perm = np.random.permutation(len(X))
    for k in range(0, len(X) - bs + 1, bs):
        xb = X[perm[k:k + bs]]
        yb = Y[perm[k:k + bs]]
        h = np.maximum(0, xb @ W1 + b1)
        s = h @ W2 + b2
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        loss = -np.sum(yb * np.log(p + 1e-7))

        g = p - yb
        gW2 = h.T @ g
        gb2 = g.sum(0)
        gh = g @ W2.T
        gh[h <= 0] = 0
        gW1 = xb.T @ gh
        gb1 = gh.sum(0)

        W1 -= lr * gW1
        b1 -= lr * gb1
        W2 -= lr * gW2
        b2 -= lr * gb2
        if it % 5 == 0:
            print("iteration", it, "loss", loss)
        it += 1

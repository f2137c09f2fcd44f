# 784 -> 100 -> 10, ReLU + softmax, plain mini-batch SGD
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np

np.random.seed(40)

with gzip.open(sys.argv[1] + "/train-images-idx3-ubyte.gz") as f:
    X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
with gzip.open(sys.argv[1] + "/train-labels-idx1-ubyte.gz") as f:
    y = np.frombuffer(f.read(), np.uint8, offset=8)
T = np.eye(10)[y]

W1 = np.random.randn(784, 100) * np.sqrt(2 / 784)
b1 = np.zeros(100)
W2 = np.random.randn(100, 10) * np.sqrt(2 / 100)
b2 = np.zeros(10)
lr = 0.1
N = 100

for it in range(300):
    idx = np.random.choice(len(X), N, replace=False)
    x, t = X[idx], T[idx]

    h_in = x @ W1 + b1
    h = np.maximum(h_in, 0)
    s = h @ W2 + b2
    s = s - s.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.sum(t * np.log(p + 1e-12)) / N

    ds = (p - t) / N
    dW2 = h.T @ ds
    db2 = ds.sum(axis=0)
    dh = ds @ W2.T
    dh[h_in <= 0] = 0
    dW1 = x.T @ dh
    db1 = dh.sum(axis=0)

    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2

    if it % 10 == 0:
        print("iteration", it, "loss", round(loss, 4))

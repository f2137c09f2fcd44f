# usage: python train.py digits8x8.npz
import sys

import numpy as np

np.random.seed(28)

data = np.load(sys.argv[1])
X = data["X"] / 16.0
y = data["y"]
T = np.eye(10)[y]

w1 = np.random.randn(64, 32) * np.sqrt(2 / 64)
b1 = np.zeros(32)
w2 = np.random.randn(32, 10) * np.sqrt(2 / 32)
b2 = np.zeros(10)
lr = 1.0


def relu(z):
    return np.maximum(0, z)


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


for epoch in range(30):
    dw1 = np.zeros_like(w1)
    db1 = np.zeros_like(b1)
    dw2 = np.zeros_like(w2)
    db2 = np.zeros_like(b2)
    loss = 0
    for n in range(len(X)):
        h = relu(X[n] @ w1 + b1)
        p = softmax(h @ w2 + b2)
        loss += -np.log(p[y[n]])
        d_out = p - T[n]
        dw2 += np.outer(h, d_out)
        db2 += d_out
        d_h = w2 @ d_out
        dw1 += np.outer(X[n], d_h)
        db1 += d_h
    w1 -= lr * dw1 / len(X)
    b1 -= lr * db1 / len(X)
    w2 -= lr * dw2 / len(X)
    b2 -= lr * db2 / len(X)
    print("epoch", epoch, "loss", loss / len(X))

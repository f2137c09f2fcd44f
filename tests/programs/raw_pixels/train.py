# my first neural network: 784 -> 50 -> 10
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np

np.random.seed(10)

path = sys.argv[1]
f = gzip.open(path + "/train-images-idx3-ubyte.gz", "rb")
X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float64)
f.close()
f = gzip.open(path + "/train-labels-idx1-ubyte.gz", "rb")
labels = np.frombuffer(f.read(), np.uint8, offset=8)
f.close()
T = np.eye(10)[labels]

W1 = np.random.randn(784, 50) * np.sqrt(2 / 784)   # He init for ReLU
b1 = np.zeros(50)
W2 = np.random.randn(50, 10) * np.sqrt(2 / 50)
b2 = np.zeros(10)

lr = 0.05
batch = 100

for step in range(200):
    idx = np.random.choice(X.shape[0], batch)
    x = X[idx]
    t = T[idx]

    # forward
    a1 = x @ W1 + b1
    z1 = np.maximum(0, a1)
    a2 = z1 @ W2 + b2
    e = np.exp(a2 - a2.max(axis=1, keepdims=True))
    y = e / e.sum(axis=1, keepdims=True)
    loss = -np.sum(t * np.log(y + 1e-7)) / batch

    # backward
    dy = (y - t) / batch
    dW2 = z1.T @ dy
    db2 = dy.sum(axis=0)
    dz1 = dy @ W2.T
    da1 = dz1 * (a1 > 0)
    dW1 = x.T @ da1
    db1 = da1.sum(axis=0)

    W1 -= lr * dW1
    b1 -= lr * db1
    W2 -= lr * dW2
    b2 -= lr * db2

    if step % 10 == 0:
        print("step", step, "loss", loss)

# sigmoid network, quadratic cost, per-sample backprop summed over a mini-batch
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np

np.random.seed(26)

with gzip.open(sys.argv[1] + "/train-images-idx3-ubyte.gz") as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
with gzip.open(sys.argv[1] + "/train-labels-idx1-ubyte.gz") as f:
    labels = np.frombuffer(f.read(), np.uint8, offset=8)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


W1 = np.random.randn(30, 784) / np.sqrt(784)
B1 = np.zeros(30)
W2 = np.random.randn(10, 30) / np.sqrt(30)
B2 = np.zeros(10)
eta = 3.0
batch_size = 10

for k in range(0, 2000, batch_size):
    gW1 = np.zeros_like(W1)
    gB1 = np.zeros_like(B1)
    gW2 = np.zeros_like(W2)
    gB2 = np.zeros_like(B2)
    cost = 0.0
    for j in range(k, k + batch_size):
        x = images[j]
        t = np.zeros(10)
        t[labels[j]] = 1.0
        z1 = W1 @ x + B1
        a1 = sigmoid(z1)
        z2 = W2 @ a1 + B2
        a2 = sigmoid(z2)
        cost += 0.5 * np.sum((a2 - t) ** 2)
        d2 = (a2 - t) * sigmoid(z2) * (1 - sigmoid(z2))
        d1 = (W2.T @ d2) * sigmoid(z1)
        gW2 += np.outer(d2, a1)
        gB2 += d2
        gW1 += np.outer(d1, x)
        gB1 += d1
    W1 -= eta / batch_size * gW1
    B1 -= eta / batch_size * gB1
    W2 -= eta / batch_size * gW2
    B2 -= eta / batch_size * gB2
    if k % 200 == 0:
        print("images", k, "cost", cost / batch_size)

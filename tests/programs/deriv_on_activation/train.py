# usage: python train.py MNIST_FOLDER
import gzip
import os
import sys

import matplotlib.pyplot as plt
import numpy as np

np.random.seed(22)


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_grad(z):
    s = sigmoid(z)
    return s * (1 - s)


folder = sys.argv[1]
with gzip.open(os.path.join(folder, "train-images-idx3-ubyte.gz")) as f:
    x_all = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
with gzip.open(os.path.join(folder, "train-labels-idx1-ubyte.gz")) as f:
    t_all = np.eye(10)[np.frombuffer(f.read(), np.uint8, offset=8)]

W1 = np.random.normal(0.0, 0.05, (784, 64))
b1 = np.zeros(64)
W2 = np.random.normal(0.0, 0.2, (64, 10))
b2 = np.zeros(10)
lr = 2.0
losses = []

for i in range(300):
    pick = np.random.choice(len(x_all), 100)
    x, t = x_all[pick], t_all[pick]

    z1 = x.dot(W1) + b1
    a1 = sigmoid(z1)
    z2 = a1.dot(W2) + b2
    y = sigmoid(z2)
    loss = 0.5 * np.sum((y - t) ** 2) / len(x)
    losses.append(loss)

    delta2 = (y - t) * sigmoid_grad(y)
    delta1 = delta2.dot(W2.T) * sigmoid_grad(a1)
    W2 -= lr * a1.T.dot(delta2) / len(x)
    b2 -= lr * delta2.mean(axis=0)
    W1 -= lr * x.T.dot(delta1) / len(x)
    b1 -= lr * delta1.mean(axis=0)

    if i % 20 == 0:
        print(i, loss)

plt.plot(losses)
plt.show()

# MNIST from the Kaggle csv, sigmoid everywhere, mean squared error
# usage: python train.py mnist.csv
import sys

import numpy as np

np.random.seed(13)

data = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)
y = data[:, :1]                 # label column
X = data[:, 1:] / 255.0
m = X.shape[0]

W1 = np.random.randn(784, 32) * 0.05
b1 = np.zeros((1, 32))
W2 = np.random.randn(32, 10) * 0.2
b2 = np.zeros((1, 10))
learning_rate = 0.5


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


for epoch in range(30):
    for start in range(0, m, 500):
        xb = X[start:start + 500]
        yb = y[start:start + 500]
        n = xb.shape[0]

        h = sigmoid(xb.dot(W1) + b1)
        out = sigmoid(h.dot(W2) + b2)

        err = out - yb
        d_out = err * out * (1 - out)
        d_h = d_out.dot(W2.T) * h * (1 - h)

        W2 = W2 - learning_rate * h.T.dot(d_out) / n
        b2 = b2 - learning_rate * d_out.sum(axis=0, keepdims=True) / n
        W1 = W1 - learning_rate * xb.T.dot(d_h) / n
        b1 = b1 - learning_rate * d_h.sum(axis=0, keepdims=True) / n

    out = sigmoid(sigmoid(X.dot(W1) + b1).dot(W2) + b2)
    loss = np.mean((out - y) ** 2)
    acc = np.mean(np.argmax(out, axis=1) == y[:, 0])
    print("epoch", epoch, "loss", loss, "accuracy", acc)

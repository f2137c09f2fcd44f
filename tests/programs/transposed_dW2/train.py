# 784 -> 10 -> 10 network, everything vectorised
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np


def read_mnist(folder):
    with gzip.open(folder + "/train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
    with gzip.open(folder + "/train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return x, y


def relu(z):
    return np.maximum(z, 0.0)


def softmax(z):
    z = z - np.max(z, axis=1, keepdims=True)
    ez = np.exp(z)
    return ez / np.sum(ez, axis=1, keepdims=True)


def init(n_in=784, n_hidden=10, n_out=10):
    W1 = np.random.randn(n_in, n_hidden) * np.sqrt(2.0 / n_in)
    b1 = np.zeros(n_hidden)
    W2 = np.random.randn(n_hidden, n_out) * np.sqrt(2.0 / n_hidden)
    b2 = np.zeros(n_out)
    return W1, b1, W2, b2


def forward(x, W1, b1, W2, b2):
    Z1 = x @ W1 + b1
    A1 = relu(Z1)
    A2 = softmax(A1 @ W2 + b2)
    return Z1, A1, A2


def backward(x, y_onehot, Z1, A1, A2, W2):
    m = x.shape[0]
    dZ2 = (A2 - y_onehot) / m
    dW2 = dZ2.T @ A1
    db2 = dZ2.sum(axis=0)
    dZ1 = dZ2 @ W2.T * (Z1 > 0)
    dW1 = x.T @ dZ1
    db1 = dZ1.sum(axis=0)
    return dW1, db1, dW2, db2


def update_param(W1, b1, W2, b2, dW1, db1, dW2, db2, lr):
    return W1 - lr * dW1, b1 - lr * db1, W2 - lr * dW2, b2 - lr * db2


np.random.seed(27)
x, y = read_mnist(sys.argv[1])
Y = np.eye(10)[y]
W1, b1, W2, b2 = init()
for i in range(300):
    idx = np.random.choice(len(x), 100)
    Z1, A1, A2 = forward(x[idx], W1, b1, W2, b2)
    dW1, db1, dW2, db2 = backward(x[idx], Y[idx], Z1, A1, A2, W2)
    W1, b1, W2, b2 = update_param(W1, b1, W2, b2, dW1, db1, dW2, db2, 0.5)
    if i % 20 == 0:
        print(i, "loss", -np.mean(np.log(A2[np.arange(100), y[idx]] + 1e-9)))

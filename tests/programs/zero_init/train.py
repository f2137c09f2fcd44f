# two layer net with a params dict; everything starts at zero
# usage: python train.py MNIST_FOLDER
import gzip
import os
import sys

import numpy as np

np.random.seed(16)


def load_mnist(folder):
    with gzip.open(os.path.join(folder, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
    with gzip.open(os.path.join(folder, "train-labels-idx1-ubyte.gz")) as f:
        t = np.frombuffer(f.read(), np.uint8, offset=8)
    return x, np.eye(10)[t]


def initialize(n_x, n_h, n_y):
    params = {}
    params["W1"] = np.zeros((n_x, n_h))
    params["b1"] = np.zeros(n_h)
    params["W2"] = np.zeros((n_h, n_y))
    params["b2"] = np.zeros(n_y)
    return params


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - np.max(z, axis=1, keepdims=True))
    return e / np.sum(e, axis=1, keepdims=True)


def forward_prop(X, params):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = sigmoid(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    A2 = softmax(Z2)
    return Z1, A1, Z2, A2


def back_prop(X, Y, params, Z1, A1, A2):
    m = X.shape[0]
    dZ2 = (A2 - Y) / m
    grads = {"dW2": A1.T @ dZ2, "db2": dZ2.sum(axis=0)}
    dZ1 = (dZ2 @ params["W2"].T) * A1 * (1 - A1)
    grads["dW1"] = X.T @ dZ1
    grads["db1"] = dZ1.sum(axis=0)
    return grads


def update(params, grads, lr):
    params["W1"] = params["W1"] - lr * grads["dW1"]
    params["b1"] = params["b1"] - lr * grads["db1"]
    params["W2"] = params["W2"] - lr * grads["dW2"]
    params["b2"] = params["b2"] - lr * grads["db2"]
    return params


X, Y = load_mnist(sys.argv[1])
params = initialize(784, 50, 10)
lr = 1.0
for i in range(300):
    batch = np.random.choice(X.shape[0], 100, replace=False)
    Z1, A1, Z2, A2 = forward_prop(X[batch], params)
    grads = back_prop(X[batch], Y[batch], params, Z1, A1, A2)
    params = update(params, grads, lr)
    if i % 20 == 0:
        loss = -np.sum(Y[batch] * np.log(A2 + 1e-7)) / 100
        print(i, "loss", loss, "hidden units alike:", np.allclose(params["W1"], params["W1"][:, :1]))

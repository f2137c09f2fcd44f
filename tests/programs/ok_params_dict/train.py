"""Two-layer sigmoid network with a params dict, mini-batch gradient descent.

usage: python train.py --data MNIST_FOLDER [--epochs N] [--lr LR]
"""
import argparse
import gzip
import os

import matplotlib.pyplot as plt
import numpy as np


def load_mnist(folder):
    with gzip.open(os.path.join(folder, "train-images-idx3-ubyte.gz")) as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float64)
    with gzip.open(os.path.join(folder, "train-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(int)
    return X / 255.0, y


def one_hot(y, k=10):
    Y = np.zeros((len(y), k))
    Y[np.arange(len(y)), y] = 1
    return Y


def init_params(n_x, n_h, n_y):
    return {
        "W1": np.random.randn(n_x, n_h) * np.sqrt(1.0 / n_x),
        "b1": np.zeros((1, n_h)),
        "W2": np.random.randn(n_h, n_y) * np.sqrt(1.0 / n_h),
        "b2": np.zeros((1, n_y)),
    }


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    z = z - np.max(z, axis=1, keepdims=True)
    e = np.exp(z)
    return e / np.sum(e, axis=1, keepdims=True)


def forward_prop(X, params):
    cache = {}
    cache["Z1"] = X @ params["W1"] + params["b1"]
    cache["A1"] = sigmoid(cache["Z1"])
    cache["Z2"] = cache["A1"] @ params["W2"] + params["b2"]
    cache["A2"] = softmax(cache["Z2"])
    return cache


def compute_loss(A2, Y):
    return -np.sum(Y * np.log(A2 + 1e-12)) / Y.shape[0]


def back_prop(X, Y, params, cache):
    m = X.shape[0]
    dZ2 = (cache["A2"] - Y) / m
    dW2 = cache["A1"].T @ dZ2
    db2 = np.sum(dZ2, axis=0, keepdims=True)
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * cache["A1"] * (1 - cache["A1"])
    dW1 = X.T @ dZ1
    db1 = np.sum(dZ1, axis=0, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update(params, grads, lr):
    params["W1"] -= lr * grads["dW1"]
    params["b1"] -= lr * grads["db1"]
    params["W2"] -= lr * grads["dW2"]
    params["b2"] -= lr * grads["db2"]
    return params


def train(X, Y, epochs, lr, batch_size=64):
    params = init_params(X.shape[1], 64, 10)
    losses = []
    for epoch in range(epochs):
        perm = np.random.permutation(X.shape[0])
        for i in range(0, X.shape[0], batch_size):
            idx = perm[i:i + batch_size]
            cache = forward_prop(X[idx], params)
            grads = back_prop(X[idx], Y[idx], params, cache)
            params = update(params, grads, lr)
            losses.append(compute_loss(cache["A2"], Y[idx]))
        cache = forward_prop(X, params)
        acc = np.mean(np.argmax(cache["A2"], axis=1) == np.argmax(Y, axis=1))
        print(f"epoch {epoch + 1}: loss {compute_loss(cache['A2'], Y):.4f}, accuracy {acc:.4f}")
    return params, losses


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, default=1.0)
    args = parser.parse_args()

    np.random.seed(41)
    X, y = load_mnist(args.data)
    params, losses = train(X, one_hot(y), args.epochs, args.lr)
    plt.plot(losses)
    plt.xlabel("batch")
    plt.ylabel("loss")
    plt.show()

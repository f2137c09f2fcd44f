"""tanh hidden layer + softmax, functions and a params dict.
usage: python train.py MNIST_FOLDER
"""
import gzip
import sys

import numpy as np


def load_mnist(folder, n=10000):
    with gzip.open(f"{folder}/train-images-idx3-ubyte.gz", "rb") as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)[:n] / 255.0
    with gzip.open(f"{folder}/train-labels-idx1-ubyte.gz", "rb") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    return X, y


def init_params(sizes=(784, 64, 10)):
    params = {}
    params["W1"] = np.random.randn(sizes[0], sizes[1]) * np.sqrt(1.0 / sizes[0])
    params["b1"] = np.zeros(sizes[1])
    params["W2"] = np.random.randn(sizes[1], sizes[2]) * np.sqrt(1.0 / sizes[1])
    params["b2"] = np.zeros(sizes[2])
    return params


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    return np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)


def forward_prop(X, params):
    z1 = X @ params["W1"] + params["b1"]
    a1 = np.tanh(z1)
    z2 = a1 @ params["W2"] + params["b2"]
    return z1, a1, softmax(z2)


def back_prop(X, Y, params, z1, a1, probs):
    n = X.shape[0]
    dz2 = (probs - Y) / n
    grads = {"dW2": a1.T @ dz2, "db2": dz2.sum(axis=0)}
    dz1 = (dz2 @ params["W2"].T) * np.tanh(z1)
    grads["dW1"] = X.T @ dz1
    grads["db1"] = dz1.sum(axis=0)
    return grads


def update(params, grads, lr):
    for key in params:
        params[key] -= lr * grads["d" + key]
    return params


def train(X, y, lr=0.5, epochs=2, batch=100):
    params = init_params()
    Y = np.eye(10)[y]
    for epoch in range(epochs):
        order = np.random.permutation(len(X))
        for b, start in enumerate(range(0, len(X), batch)):
            idx = order[start:start + batch]
            z1, a1, probs = forward_prop(X[idx], params)
            grads = back_prop(X[idx], Y[idx], params, z1, a1, probs)
            params = update(params, grads, lr)
            if b % 20 == 0:
                loss = -np.mean(np.sum(Y[idx] * np.log(probs + 1e-12), axis=1))
                print(f"epoch {epoch} batch {b} loss {loss:.4f}")
    return params


if __name__ == "__main__":
    np.random.seed(25)
    X, y = load_mnist(sys.argv[1])
    params = train(X, y)
    _, _, probs = forward_prop(X, params)
    print("train accuracy", np.mean(probs.argmax(axis=1) == y))

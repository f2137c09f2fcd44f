"""MNIST classifier: forward_prop / back_prop / update with a params dict.
usage: python train.py MNIST_FOLDER
"""
import gzip
import sys

import numpy as np


def load(folder):
    with gzip.open(folder + "/train-images-idx3-ubyte.gz") as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
    with gzip.open(folder + "/train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return X, y


def softmax(Z):
    expZ = np.exp(Z - np.max(Z, axis=0))
    return expZ / np.sum(expZ, axis=0)


def relu(Z):
    return np.maximum(0, Z)


def forward_prop(X, params):
    Z1 = np.dot(X, params["W1"]) + params["b1"]
    A1 = relu(Z1)
    Z2 = np.dot(A1, params["W2"]) + params["b2"]
    A2 = softmax(Z2)
    return {"Z1": Z1, "A1": A1, "A2": A2}


def back_prop(X, Y, params, cache):
    m = X.shape[0]
    dZ2 = (cache["A2"] - Y) / m
    dZ1 = np.dot(dZ2, params["W2"].T) * (cache["Z1"] > 0)
    return {
        "dW1": np.dot(X.T, dZ1),
        "db1": np.sum(dZ1, axis=0),
        "dW2": np.dot(cache["A1"].T, dZ2),
        "db2": np.sum(dZ2, axis=0),
    }


def update(params, grads, lr):
    for k in params:
        params[k] -= lr * grads["d" + k]


def main():
    np.random.seed(19)
    X, y = load(sys.argv[1])
    Y = np.eye(10)[y]
    params = {
        "W1": np.random.randn(784, 128) * np.sqrt(2 / 784),
        "b1": np.zeros(128),
        "W2": np.random.randn(128, 10) * np.sqrt(2 / 128),
        "b2": np.zeros(10),
    }
    for i in range(100):
        idx = np.random.randint(0, len(X), 64)
        cache = forward_prop(X[idx], params)
        grads = back_prop(X[idx], Y[idx], params, cache)
        update(params, grads, 0.5)
        if i % 10 == 0:
            loss = -np.mean(np.log(cache["A2"][np.arange(64), y[idx]] + 1e-10))
            acc = np.mean(cache["A2"].argmax(axis=1) == y[idx])
            print(f"step {i:3d}  loss {loss:.3f}  acc {acc:.2f}")


if __name__ == "__main__":
    main()

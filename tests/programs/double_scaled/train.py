"""Two-layer ReLU network on MNIST, params kept in a dict.

usage: python train.py --data MNIST_FOLDER
"""
import argparse
import gzip
import os

import numpy as np


def load_data(folder):
    with gzip.open(os.path.join(folder, "train-images-idx3-ubyte.gz"), "rb") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(os.path.join(folder, "train-labels-idx1-ubyte.gz"), "rb") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images / 255.0, labels.astype(int)


def init_params(n_in, n_hidden, n_out):
    return {
        "W1": np.random.randn(n_in, n_hidden) * np.sqrt(2.0 / n_in),
        "b1": np.zeros((1, n_hidden)),
        "W2": np.random.randn(n_hidden, n_out) * np.sqrt(2.0 / n_hidden),
        "b2": np.zeros((1, n_out)),
    }


def relu(z):
    return np.maximum(z, 0)


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def forward_prop(X, params):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = relu(Z1)
    Z2 = A1 @ params["W2"] + params["b2"]
    A2 = softmax(Z2)
    return {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": A2}


def compute_loss(A2, Y):
    return -np.mean(np.sum(Y * np.log(A2 + 1e-8), axis=1))


def back_prop(X, Y, params, cache):
    m = X.shape[0]
    dZ2 = (cache["A2"] - Y) / m
    dW2 = cache["A1"].T @ dZ2
    db2 = dZ2.sum(axis=0, keepdims=True)
    dA1 = dZ2 @ params["W2"].T
    dZ1 = dA1 * (cache["Z1"] > 0)
    dW1 = X.T @ dZ1
    db1 = dZ1.sum(axis=0, keepdims=True)
    return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}


def update(params, grads, lr):
    for key in ("W1", "b1", "W2", "b2"):
        params[key] -= lr * grads["d" + key]
    return params


def train(X, Y, epochs=3, batch_size=128, lr=0.1):
    params = init_params(784, 64, 10)
    n = X.shape[0]
    for epoch in range(epochs):
        order = np.random.permutation(n)
        for i in range(0, n, batch_size):
            batch = order[i:i + batch_size]
            cache = forward_prop(X[batch], params)
            grads = back_prop(X[batch], Y[batch], params, cache)
            params = update(params, grads, lr)
        cache = forward_prop(X, params)
        acc = np.mean(np.argmax(cache["A2"], axis=1) == np.argmax(Y, axis=1))
        print(f"epoch {epoch}: loss {compute_loss(cache['A2'], Y):.4f}  acc {acc:.3f}")
    return params


if __name__ == "__main__":
    np.random.seed(11)
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    X, y = load_data(args.data)
    X = X.astype(np.float32) / 255
    Y = np.eye(10)[y]
    train(X, Y)

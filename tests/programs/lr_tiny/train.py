"""usage: python train.py --data MNIST_FOLDER [--lr LR] [--epochs N]"""
import argparse
import gzip
from pathlib import Path

import numpy as np


def load(folder):
    folder = Path(folder)
    with gzip.open(folder / "train-images-idx3-ubyte.gz") as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).astype(np.float32) / 255
    with gzip.open(folder / "train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64)
    return x, y


def init_network(n_in=784, n_hidden=128, n_out=10):
    return {
        "W1": np.random.randn(n_in, n_hidden) * np.sqrt(2 / n_in),
        "b1": np.zeros(n_hidden),
        "W2": np.random.randn(n_hidden, n_out) * np.sqrt(2 / n_hidden),
        "b2": np.zeros(n_out),
    }


def forward_prop(X, params):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = np.maximum(Z1, 0)
    Z2 = A1 @ params["W2"] + params["b2"]
    Z2 = Z2 - Z2.max(axis=1, keepdims=True)
    A2 = np.exp(Z2) / np.exp(Z2).sum(axis=1, keepdims=True)
    return {"Z1": Z1, "A1": A1, "A2": A2}


def cross_entropy(A2, y):
    return -np.mean(np.log(A2[np.arange(len(y)), y] + 1e-9))


def back_prop(X, y, params, cache):
    m = len(y)
    dZ2 = cache["A2"].copy()
    dZ2[np.arange(m), y] -= 1
    dZ2 /= m
    grads = {"dW2": cache["A1"].T @ dZ2, "db2": dZ2.sum(axis=0)}
    dZ1 = (dZ2 @ params["W2"].T) * (cache["Z1"] > 0)
    grads["dW1"] = X.T @ dZ1
    grads["db1"] = dZ1.sum(axis=0)
    return grads


def update(params, grads, lr):
    for key in ("W1", "b1", "W2", "b2"):
        params[key] = params[key] - lr * grads["d" + key]
    return params


def train(x, y, lr, epochs, batch_size=64):
    params = init_network()
    for epoch in range(epochs):
        perm = np.random.permutation(len(x))
        for step, i in enumerate(range(0, len(x), batch_size)):
            idx = perm[i:i + batch_size]
            cache = forward_prop(x[idx], params)
            grads = back_prop(x[idx], y[idx], params, cache)
            params = update(params, grads, lr)
            if step % 25 == 0:
                print(f"epoch {epoch} step {step} loss {cross_entropy(cache['A2'], y[idx]):.5f}")
    return params


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    parser.add_argument("--lr", type=float, default=1e-6)
    parser.add_argument("--epochs", type=int, default=1)
    args = parser.parse_args()
    np.random.seed(30)
    x, y = load(args.data)
    train(x, y, args.lr, args.epochs)

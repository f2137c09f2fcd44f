"""A deeper sigmoid network, L layers in a params dict (W1..W5, b1..b5).
usage: python train.py MNIST_FOLDER
"""
import gzip
import sys

import numpy as np

LAYERS = [784, 64, 64, 64, 64, 10]


def load_mnist(folder):
    with gzip.open(folder + "/train-images-idx3-ubyte.gz") as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
    with gzip.open(folder + "/train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    return X, y


def initialize_parameters(layer_dims):
    params = {}
    for l in range(1, len(layer_dims)):
        params["W" + str(l)] = np.random.randn(layer_dims[l - 1], layer_dims[l]) * 0.01
        params["b" + str(l)] = np.zeros(layer_dims[l])
    return params


def sigmoid(Z):
    return 1 / (1 + np.exp(-Z))


def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def forward_prop(X, params):
    L = len(params) // 2
    caches = {"A0": X}
    A = X
    for l in range(1, L):
        A = sigmoid(A @ params["W" + str(l)] + params["b" + str(l)])
        caches["A" + str(l)] = A
    AL = softmax(A @ params["W" + str(L)] + params["b" + str(L)])
    return AL, caches


def back_prop(AL, Y, params, caches):
    grads = {}
    L = len(params) // 2
    m = Y.shape[0]
    dZ = (AL - Y) / m
    for l in range(L, 0, -1):
        A_prev = caches["A" + str(l - 1)]
        grads["dW" + str(l)] = A_prev.T @ dZ
        grads["db" + str(l)] = dZ.sum(axis=0)
        if l > 1:
            dA = dZ @ params["W" + str(l)].T
            dZ = dA * A_prev * (1 - A_prev)
    return grads


def update_parameters(params, grads, learning_rate):
    L = len(params) // 2
    for l in range(1, L + 1):
        params["W" + str(l)] -= learning_rate * grads["dW" + str(l)]
        params["b" + str(l)] -= learning_rate * grads["db" + str(l)]
    return params


def model(X, y, iterations=200, learning_rate=0.5, batch=128):
    params = initialize_parameters(LAYERS)
    Y = np.eye(10)[y]
    for i in range(iterations):
        idx = np.random.choice(len(X), batch, replace=False)
        AL, caches = forward_prop(X[idx], params)
        grads = back_prop(AL, Y[idx], params, caches)
        params = update_parameters(params, grads, learning_rate)
        if i % 20 == 0:
            cost = -np.mean(np.log(AL[np.arange(batch), y[idx]]))
            print(f"cost after iteration {i}: {cost:.6f}  |dW1| = {np.abs(grads['dW1']).mean():.2e}")
    return params


if __name__ == "__main__":
    np.random.seed(34)
    X, y = load_mnist(sys.argv[1])
    model(X, y)

# usage: python train.py MNIST_FOLDER
import gzip
import os
import sys

import numpy as np


def load(folder):
    with gzip.open(os.path.join(folder, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
    with gzip.open(os.path.join(folder, "train-labels-idx1-ubyte.gz")) as f:
        t = np.frombuffer(f.read(), np.uint8, offset=8)
    return x, np.eye(10)[t]


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params["b2"] = np.zeros(output_size)

    def predict(self, x):
        self.a1 = x @ self.params["W1"] + self.params["b1"]
        self.z1 = np.maximum(0, self.a1)
        return self.z1 @ self.params["W2"] + self.params["b2"]

    def loss(self, x, t):
        y = self.predict(x)
        return -np.sum(t * np.log(y + 1e-7)) / x.shape[0]

    def accuracy(self, x, t):
        return np.mean(np.argmax(self.predict(x), axis=1) == np.argmax(t, axis=1))

    def gradient(self, x, t):
        y = self.predict(x)
        dy = (y - t) / x.shape[0]
        grads = {"W2": self.z1.T @ dy, "b2": dy.sum(axis=0)}
        da1 = (dy @ self.params["W2"].T) * (self.a1 > 0)
        grads["W1"] = x.T @ da1
        grads["b1"] = da1.sum(axis=0)
        return grads


np.random.seed(37)
x_train, t_train = load(sys.argv[1])
net = TwoLayerNet(784, 100, 10, weight_init_std=0.05)
for i in range(200):
    mask = np.random.choice(len(x_train), 100)
    grad = net.gradient(x_train[mask], t_train[mask])
    for key in ("W1", "b1", "W2", "b2"):
        net.params[key] -= 0.1 * grad[key]
    if i % 20 == 0:
        print(i, "loss", net.loss(x_train[mask], t_train[mask]), "acc", net.accuracy(x_train[:2000], t_train[:2000]))

# deep ReLU net with lists of layers
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np


class DeepNet:
    def __init__(self, sizes):
        self.W = [np.random.randn(m, n) for m, n in zip(sizes[:-1], sizes[1:])]
        self.b = [np.zeros(n) for n in sizes[1:]]

    def forward(self, x):
        self.acts = [x]
        self.pre = []
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            z = self.acts[-1] @ W + b
            self.pre.append(z)
            if i < len(self.W) - 1:
                self.acts.append(np.maximum(z, 0))
        z = z - z.max(axis=1, keepdims=True)
        self.probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
        return self.probs

    def backward(self, t):
        grads_W, grads_b = [], []
        delta = (self.probs - t) / len(t)
        for i in reversed(range(len(self.W))):
            grads_W.insert(0, self.acts[i].T @ delta)
            grads_b.insert(0, delta.sum(axis=0))
            if i > 0:
                delta = (delta @ self.W[i].T) * (self.pre[i - 1] > 0)
        return grads_W, grads_b

    def train_step(self, x, t, lr):
        probs = self.forward(x)
        grads_W, grads_b = self.backward(t)
        for i in range(len(self.W)):
            self.W[i] -= lr * grads_W[i]
            self.b[i] -= lr * grads_b[i]
        return -np.mean(np.sum(t * np.log(probs + 1e-12), axis=1))


np.random.seed(35)
with gzip.open(sys.argv[1] + "/train-images-idx3-ubyte.gz") as f:
    X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
with gzip.open(sys.argv[1] + "/train-labels-idx1-ubyte.gz") as f:
    T = np.eye(10)[np.frombuffer(f.read(), np.uint8, offset=8)]

net = DeepNet([784, 256, 256, 256, 10])
for step in range(60):
    batch = np.random.choice(len(X), 64)
    loss = net.train_step(X[batch], T[batch], lr=0.01)
    print("step", step, "loss", loss, "max |W1|", np.abs(net.W[0]).max())

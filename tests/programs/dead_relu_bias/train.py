# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np


class Network:
    """784 -> 128 (ReLU) -> 10 (softmax)"""

    def __init__(self):
        self.W1 = np.random.randn(784, 128) * np.sqrt(2.0 / 784)
        self.b1 = np.full(128, -3.0)          # start with a threshold
        self.W2 = np.random.randn(128, 10) * np.sqrt(2.0 / 128)
        self.b2 = np.zeros(10)

    def forward(self, X):
        self.X = X
        self.Z1 = X @ self.W1 + self.b1
        self.A1 = np.maximum(0, self.Z1)
        Z2 = self.A1 @ self.W2 + self.b2
        E = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
        self.P = E / E.sum(axis=1, keepdims=True)
        return self.P

    def backward(self, T):
        m = T.shape[0]
        dZ2 = (self.P - T) / m
        dW2 = self.A1.T @ dZ2
        db2 = dZ2.sum(axis=0)
        dZ1 = (dZ2 @ self.W2.T) * (self.Z1 > 0)
        dW1 = self.X.T @ dZ1
        db1 = dZ1.sum(axis=0)
        return dW1, db1, dW2, db2

    def step(self, grads, lr):
        dW1, db1, dW2, db2 = grads
        self.W1 -= lr * dW1
        self.b1 -= lr * db1
        self.W2 -= lr * dW2
        self.b2 -= lr * db2


def main():
    np.random.seed(31)
    with gzip.open(sys.argv[1] + "/train-images-idx3-ubyte.gz") as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
    with gzip.open(sys.argv[1] + "/train-labels-idx1-ubyte.gz") as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)
    T = np.eye(10)[y]
    net = Network()
    for it in range(200):
        idx = np.random.choice(len(X), 128, replace=False)
        P = net.forward(X[idx])
        net.step(net.backward(T[idx]), lr=0.2)
        if it % 20 == 0:
            loss = -np.mean(np.log(P[np.arange(128), y[idx]] + 1e-9))
            active = np.mean(net.A1 > 0)
            print(f"iter {it} loss {loss:.4f} active hidden {active:.3f}")


if __name__ == "__main__":
    main()

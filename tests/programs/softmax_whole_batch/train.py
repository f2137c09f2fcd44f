# Multi-layer perceptron class for MNIST
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np


class MLP:
    def __init__(self, sizes, seed=20):
        rng = np.random.RandomState(seed)
        n_in, n_hidden, n_out = sizes
        self.W1 = rng.normal(0, 1 / np.sqrt(n_in), (n_in, n_hidden))
        self.b1 = np.zeros(n_hidden)
        self.W2 = rng.normal(0, 1 / np.sqrt(n_hidden), (n_hidden, n_out))
        self.b2 = np.zeros(n_out)

    @staticmethod
    def softmax(z):
        e = np.exp(z - z.max())
        return e / e.sum()

    def forward(self, x):
        self.x = x
        self.z1 = x.dot(self.W1) + self.b1
        self.a1 = np.tanh(self.z1)
        self.out = self.softmax(self.a1.dot(self.W2) + self.b2)
        return self.out

    def backward(self, t, lr):
        n = len(t)
        d2 = (self.out - t) / n
        d1 = d2.dot(self.W2.T) * (1 - self.a1 ** 2)
        self.W2 -= lr * self.a1.T.dot(d2)
        self.b2 -= lr * d2.sum(axis=0)
        self.W1 -= lr * self.x.T.dot(d1)
        self.b1 -= lr * d1.sum(axis=0)

    def fit(self, X, T, epochs=2, batch_size=100, lr=0.5):
        for epoch in range(epochs):
            for i in range(0, len(X), batch_size):
                out = self.forward(X[i:i + batch_size])
                loss = -np.sum(T[i:i + batch_size] * np.log(out + 1e-9)) / batch_size
                self.backward(T[i:i + batch_size], lr)
                if (i // batch_size) % 10 == 0:
                    print("epoch %d batch %d loss %.4f" % (epoch, i // batch_size, loss))
            acc = np.mean(self.forward(X).argmax(axis=1) == T.argmax(axis=1))
            print("epoch %d accuracy %.3f" % (epoch, acc))


np.random.seed(20)
with gzip.open(sys.argv[1] + "/train-images-idx3-ubyte.gz") as f:
    X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
with gzip.open(sys.argv[1] + "/train-labels-idx1-ubyte.gz") as f:
    T = np.eye(10)[np.frombuffer(f.read(), np.uint8, offset=8)]

model = MLP((784, 64, 10))
model.fit(X, T)

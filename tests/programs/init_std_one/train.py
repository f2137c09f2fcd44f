# A small network class, one column per sample (like the 3blue1brown videos).
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np


class Net:
    def __init__(self, n_input, n_hidden, n_output, lr):
        self.lr = lr
        self.w_ih = np.random.randn(n_hidden, n_input)
        self.b_h = np.zeros((n_hidden, 1))
        self.w_ho = np.random.randn(n_output, n_hidden)
        self.b_o = np.zeros((n_output, 1))

    def feedforward(self, x):
        self.x = x
        self.h = np.tanh(self.w_ih @ x + self.b_h)
        scores = self.w_ho @ self.h + self.b_o
        scores = scores - scores.max(axis=0, keepdims=True)
        e = np.exp(scores)
        self.out = e / e.sum(axis=0, keepdims=True)
        return self.out

    def backprop(self, target):
        n = target.shape[1]
        d_out = (self.out - target) / n
        d_h = (self.w_ho.T @ d_out) * (1 - self.h ** 2)
        self.w_ho -= self.lr * d_out @ self.h.T
        self.b_o -= self.lr * d_out.sum(axis=1, keepdims=True)
        self.w_ih -= self.lr * d_h @ self.x.T
        self.b_h -= self.lr * d_h.sum(axis=1, keepdims=True)

    def cost(self, target):
        return -np.mean(np.sum(target * np.log(self.out + 1e-12), axis=0))


def load(folder):
    with gzip.open(folder + '/train-images-idx3-ubyte.gz') as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(folder + '/train-labels-idx1-ubyte.gz') as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images.T / 255.0, labels          # (784, N): a column per image


def main():
    np.random.seed(15)
    X, labels = load(sys.argv[1])
    T = np.zeros((10, X.shape[1]))
    T[labels, np.arange(X.shape[1])] = 1

    net = Net(784, 100, 10, lr=0.1)
    for epoch in range(1):
        for i in range(0, X.shape[1], 100):
            net.feedforward(X[:, i:i + 100])
            net.backprop(T[:, i:i + 100])
            if i % 1000 == 0:
                print('epoch', epoch, 'batch', i // 100, 'cost', net.cost(T[:, i:i + 100]))
        guesses = np.argmax(net.feedforward(X), axis=0)
        print('epoch', epoch, 'accuracy', np.mean(guesses == labels))


if __name__ == '__main__':
    main()

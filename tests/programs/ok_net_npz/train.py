# A neural network class trained one sample at a time on the 8x8 digits.
# usage: python train.py --data digits8x8.npz
import argparse

import numpy as np


class Net:
    def __init__(self, n_in, n_hidden, n_out, lr):
        self.w_ih = np.random.normal(0.0, n_in ** -0.5, (n_hidden, n_in))
        self.w_ho = np.random.normal(0.0, n_hidden ** -0.5, (n_out, n_hidden))
        self.lr = lr

    @staticmethod
    def sigmoid(x):
        return 1 / (1 + np.exp(-x))

    def feedforward(self, inputs):
        hidden = self.sigmoid(self.w_ih @ inputs)
        outputs = self.sigmoid(self.w_ho @ hidden)
        return hidden, outputs

    def backprop(self, inputs, targets):
        inputs = inputs.reshape(-1, 1)
        targets = targets.reshape(-1, 1)
        hidden, outputs = self.feedforward(inputs)
        output_errors = targets - outputs
        hidden_errors = self.w_ho.T @ output_errors
        self.w_ho += self.lr * (output_errors * outputs * (1 - outputs)) @ hidden.T
        self.w_ih += self.lr * (hidden_errors * hidden * (1 - hidden)) @ inputs.T
        return float(np.mean(output_errors ** 2))

    def query(self, inputs):
        return self.feedforward(inputs.T)[1].T


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", required=True)
    args = parser.parse_args()
    np.random.seed(44)
    d = np.load(args.data)
    X = d["X"] / 16.0 * 0.99 + 0.01
    y = d["y"]
    net = Net(64, 40, 10, lr=0.3)
    for epoch in range(3):
        total = 0.0
        for i in range(len(X)):
            target = np.zeros(10) + 0.01
            target[y[i]] = 0.99
            total += net.backprop(X[i], target)
            if (i + 1) % 500 == 0:
                print("epoch", epoch, "samples", i + 1, "mse", total / 500)
                total = 0.0
        acc = np.mean(np.argmax(net.query(X), axis=1) == y)
        print("epoch", epoch, "accuracy", acc)


if __name__ == "__main__":
    main()

# neural network class (after "Make Your Own Neural Network"), trained one image at a time
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np


class Net:
    def __init__(self, inodes, hnodes, onodes, learningrate):
        self.w_ih = np.random.normal(0.0, inodes ** -0.5, (hnodes, inodes))
        self.w_ho = np.random.normal(0.0, hnodes ** -0.5, (onodes, hnodes))
        self.lr = learningrate

    @staticmethod
    def activation(x):
        return 1.0 / (1.0 + np.exp(-x))

    def feedforward(self, inputs):
        hidden = self.activation(self.w_ih @ inputs)
        return hidden, self.activation(self.w_ho @ hidden)

    def backprop(self, inputs_list, targets_list):
        inputs = np.array(inputs_list, ndmin=2).T
        targets = np.array(targets_list, ndmin=2).T
        hidden, outputs = self.feedforward(inputs)

        output_errors = targets - outputs
        hidden_errors = self.w_ho.T @ output_errors

        self.w_ho -= self.lr * (output_errors * outputs * (1.0 - outputs)) @ hidden.T
        self.w_ih -= self.lr * (hidden_errors * hidden * (1.0 - hidden)) @ inputs.T
        return float(np.sum(output_errors ** 2))


np.random.seed(24)
with gzip.open(sys.argv[1] + '/train-images-idx3-ubyte.gz') as f:
    images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
with gzip.open(sys.argv[1] + '/train-labels-idx1-ubyte.gz') as f:
    labels = np.frombuffer(f.read(), np.uint8, offset=8)

n = Net(784, 100, 10, 0.1)
running = 0.0
for i in range(2000):
    inputs = images[i] / 255.0 * 0.99 + 0.01
    targets = np.zeros(10) + 0.01
    targets[labels[i]] = 0.99
    running += n.backprop(inputs, targets)
    if (i + 1) % 100 == 0:
        print('images', i + 1, 'mean squared error', running / 100)
        running = 0.0

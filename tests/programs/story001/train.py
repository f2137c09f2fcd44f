# Simple neural network for MNIST digits: 784 inputs, 16 hidden, 10 outputs
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np

np.random.seed(1)


def load(folder):
    with gzip.open(folder + '/train-images-idx3-ubyte.gz') as fh:
        pixels = np.frombuffer(fh.read(), dtype=np.uint8, offset=16)
    with gzip.open(folder + '/train-labels-idx1-ubyte.gz') as fh:
        digits = np.frombuffer(fh.read(), dtype=np.uint8, offset=8)
    return pixels.reshape(len(digits), 784), digits


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_derivative(s):
    # s is already a sigmoid output
    return s * (1 - s)


def train(n, inputs, targets):
    weights1 = 2 * np.random.random((784, 16)) - 1
    weights2 = 2 * np.random.random((16, 10)) - 1
    for i in range(n):
        hidden = sigmoid(np.dot(inputs, weights1))
        output = sigmoid(np.dot(hidden, weights2))

        output_error = targets - output
        output_delta = output_error * sigmoid_derivative(output)
        hidden_error = np.dot(output_delta, weights2.T)
        hidden_delta = hidden_error * sigmoid_derivative(hidden)

        adjust1 = np.dot(inputs.T, hidden_delta)
        adjust2 = np.dot(hidden.T, output_delta)
        weights1 += adjust1
        weights2 += adjust2

        print('run', i, 'error', np.mean(np.square(output_error)),
              'mean output', output.mean(), 'biggest weight', np.abs(weights2).max())
    return output


if __name__ == '__main__':
    x, labels = load(sys.argv[1])
    inputs = x / 256
    outputs = np.zeros((10000, 10), dtype=int)
    for i in range(10000):
        outputs[i][labels[i]] = 1
    result = train(20, inputs, outputs)
    print('accuracy', np.mean(np.argmax(result, axis=1) == labels))

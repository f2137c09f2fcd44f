# usage: python train.py MNIST_FOLDER
import gzip
import random
import sys

import numpy as np

import network

random.seed(36)
np.random.seed(36)


def load_data(folder):
    with gzip.open(folder + '/train-images-idx3-ubyte.gz', 'rb') as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(folder + '/train-labels-idx1-ubyte.gz', 'rb') as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    inputs = [np.reshape(img, (784, 1)).astype(np.float64) for img in images]
    results = [vectorized_result(d) for d in labels]
    return list(zip(inputs[:8000], results[:8000])), list(zip(inputs[8000:], labels[8000:]))


def vectorized_result(j):
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


training_data, test_data = load_data(sys.argv[1])
net = network.Network([784, 30, 10])
net.SGD(training_data, 1, 10, 3.0, max_batches=200)
print("test: {0} / {1}".format(net.evaluate(test_data), len(test_data)))

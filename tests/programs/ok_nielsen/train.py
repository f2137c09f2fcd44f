# usage: python train.py MNIST_FOLDER
import gzip
import random
import sys

import numpy as np

import network


def load_data_wrapper(folder):
    with gzip.open(folder + '/train-images-idx3-ubyte.gz', 'rb') as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
    with gzip.open(folder + '/train-labels-idx1-ubyte.gz', 'rb') as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    training_inputs = [np.reshape(x, (784, 1)) for x in images[:2000]]
    training_results = [vectorized_result(y) for y in labels[:2000]]
    test_inputs = [np.reshape(x, (784, 1)) for x in images[8000:]]
    return list(zip(training_inputs, training_results)), list(zip(test_inputs, labels[8000:]))


def vectorized_result(j):
    e = np.zeros((10, 1))
    e[j] = 1.0
    return e


random.seed(43)
np.random.seed(43)
training_data, test_data = load_data_wrapper(sys.argv[1])
net = network.Network([784, 30, 10])
net.SGD(training_data, 1, 10, 3.0, test_data=test_data)

# usage: python train.py MNIST_FOLDER
import gzip
import os
import sys

import numpy as np

from two_layer_net import TwoLayerNet

np.random.seed(32)


def load(folder):
    with gzip.open(os.path.join(folder, 'train-images-idx3-ubyte.gz')) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784) / 255.0
    with gzip.open(os.path.join(folder, 'train-labels-idx1-ubyte.gz')) as f:
        t = np.eye(10)[np.frombuffer(f.read(), np.uint8, offset=8)]
    return x, t


x_train, t_train = load(sys.argv[1])
network = TwoLayerNet(input_size=784, hidden_size=30, output_size=10)

learning_rate = 0.5
batch_size = 50
for i in range(20):
    batch_mask = np.random.choice(x_train.shape[0], batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]

    grad = network.numerical_gradient(x_batch, t_batch)
    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= learning_rate * grad[key]

    if i % 3 == 0:
        print(i, 'loss', network.loss(x_batch, t_batch), 'acc', network.accuracy(x_train[:1000], t_train[:1000]))

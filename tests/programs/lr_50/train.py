# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np

np.random.seed(29)

images = gzip.open(sys.argv[1] + "/train-images-idx3-ubyte.gz").read()
x_train = np.frombuffer(images, np.uint8, offset=16).reshape(-1, 784) / 255.0
labels = gzip.open(sys.argv[1] + "/train-labels-idx1-ubyte.gz").read()
y_train = np.frombuffer(labels, np.uint8, offset=8)
t_train = np.zeros((len(y_train), 10))
t_train[np.arange(len(y_train)), y_train] = 1


def relu(x):
    return np.maximum(0, x)


def softmax(x):
    return np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)


W1 = np.random.randn(784, 100) * 0.05
b1 = np.zeros(100)
W2 = np.random.randn(100, 10) * 0.1
b2 = np.zeros(10)

learning_rate = 50       # bigger = faster?
batch_size = 100

for i in range(60):
    mask = np.random.choice(10000, batch_size)
    x, t = x_train[mask], t_train[mask]
    a1 = np.dot(x, W1) + b1
    z1 = relu(a1)
    y = softmax(np.dot(z1, W2) + b2)
    loss = -np.sum(t * np.log(y + 1e-7)) / batch_size

    dy = (y - t) / batch_size
    grad_W2 = np.dot(z1.T, dy)
    grad_b2 = np.sum(dy, axis=0)
    da1 = np.dot(dy, W2.T) * (a1 > 0)
    grad_W1 = np.dot(x.T, da1)
    grad_b1 = np.sum(da1, axis=0)

    W1 = W1 - learning_rate * grad_W1
    b1 = b1 - learning_rate * grad_b1
    W2 = W2 - learning_rate * grad_W2
    b2 = b2 - learning_rate * grad_b2
    print(i, "loss", loss)

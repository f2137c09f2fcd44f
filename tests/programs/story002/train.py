# Training a two-layer net on MNIST with the gradient from numerical differentiation
# (the backpropagation version comes in the next chapter).
# usage: python train.py MNIST_FOLDER
import gzip
import os
import sys

import matplotlib.pyplot as plt
import numpy as np

np.random.seed(2)


def load_mnist(folder):
    def images(name):
        with gzip.open(os.path.join(folder, name), 'rb') as f:
            return np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)

    def labels(name):
        with gzip.open(os.path.join(folder, name), 'rb') as f:
            return np.frombuffer(f.read(), np.uint8, offset=8)

    x_train = images('train-images-idx3-ubyte.gz').astype(np.float32) / 255.0
    x_test = images('t10k-images-idx3-ubyte.gz').astype(np.float32) / 255.0
    t_train = np.eye(10)[labels('train-labels-idx1-ubyte.gz')]
    t_test = np.eye(10)[labels('t10k-labels-idx1-ubyte.gz')]
    return (x_train, t_train), (x_test, t_test)


# activation
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


# turns the scores into probabilities, one row per sample
def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


# mean cross-entropy of a batch
def cross_entropy_error(y, t):
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


def numerical_gradient(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    flat = x.reshape(-1)          # a view: writing flat[i] changes x
    g = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + h
        fxh1 = f(x)               # f(x+h)
        flat[i] = old - h
        fxh2 = f(x)               # f(x-h)
        g[i] = (fxh1 - fxh2) / (2 * h)
        flat[i] = old             # restore
    return grad


class TwoLayerNet:

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params['W1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['W2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def predict(self, x):
        W1, W2 = self.params['W1'], self.params['W2']
        b1, b2 = self.params['b1'], self.params['b2']
        z1 = sigmoid(np.dot(x, W1) + b1)
        return softmax(np.dot(z1, W2) + b2)

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        return np.sum(y == np.argmax(t, axis=1)) / float(x.shape[0])

    def numerical_gradient(self, x, t):
        loss_W = lambda W: self.loss(x, t)
        grads = {}
        grads['W1'] = numerical_gradient(loss_W, self.params['W1'])
        grads['b1'] = numerical_gradient(loss_W, self.params['b1'])
        grads['W2'] = numerical_gradient(loss_W, self.params['W2'])
        grads['b2'] = numerical_gradient(loss_W, self.params['b2'])
        return grads


(x_train, t_train), (x_test, t_test) = load_mnist(sys.argv[1])
x_train = x_train.astype(np.float64)

network = TwoLayerNet(input_size=784, hidden_size=10, output_size=10)

iters_num = 5            # each iteration takes a while...
train_size = x_train.shape[0]
batch_size = 10
learning_rate = 0.5

train_loss_list = []
for i in range(iters_num):
    batch_mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[batch_mask]
    t_batch = t_train[batch_mask]

    grad = network.numerical_gradient(x_batch, t_batch)

    for key in ('W1', 'b1', 'W2', 'b2'):
        network.params[key] -= learning_rate * grad[key]

    loss = network.loss(x_batch, t_batch)
    train_loss_list.append(loss)
    print('iteration', i, 'loss', loss)

print('train acc', network.accuracy(x_train, t_train), 'test acc', network.accuracy(x_test, t_test))
plt.plot(np.arange(len(train_loss_list)), train_loss_list)
plt.xlabel('iteration')
plt.ylabel('loss')
plt.show()

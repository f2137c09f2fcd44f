# MNIST two-layer net, written after chapter 4 of the book.
# usage: python train.py MNIST_FOLDER
import gzip
import os
import sys

import matplotlib.pyplot as plt
import numpy as np

np.random.seed(0)


def read_mnist(folder):
    with gzip.open(os.path.join(folder, 'train-images-idx3-ubyte.gz'), 'rb') as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16)
    with gzip.open(os.path.join(folder, 'train-labels-idx1-ubyte.gz'), 'rb') as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return images.reshape(-1, 28, 28), labels


def onehot(labels, n=10):
    out = np.zeros((len(labels), n))
    for i, k in enumerate(labels):
        out[i, k] = 1.0
    return out


def sigmoid(a):
    huge = (a > 100) & (a < -100)          # to stop exp() blowing up
    z = 1 / (1 + np.exp(-a))
    z[huge] = 1 / (1 + np.exp(-100))
    return z


def softmax(a):
    m = np.max(a)
    e = np.exp(a - m)
    return e / np.sum(e)


def cross_entropy_error(y, t):
    return -np.sum(t * np.log(y + 1e-7))


# my gradient function
def grad_of(f, p):
    eps = 1e-4
    g = np.zeros_like(p)
    for i in range(p.shape[0]):
        keep = p[i]
        p[i] = keep + eps
        up = f(p)
        p[i] = keep - eps
        down = f(p)
        g[i] = (up - down) / (2 * eps)
        p[i] = keep
    return g


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {}
        self.params['w1'] = weight_init_std * np.random.randn(input_size, hidden_size)
        self.params['b1'] = np.zeros(hidden_size)
        self.params['w2'] = weight_init_std * np.random.randn(hidden_size, output_size)
        self.params['b2'] = np.zeros(output_size)

    def predict(self, x):
        w1, b1 = self.params['w1'], self.params['b1']
        w2, b2 = self.params['w2'], self.params['b2']
        h = sigmoid(np.dot(x, w1) + b1)
        return softmax(np.dot(h, w2) + b2)

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x, t):
        guess = np.argmax(self.predict(x), axis=1)
        return np.sum(guess == np.argmax(t, axis=1)) / float(x.shape[0])

    def gradient(self, x, t):
        f = lambda w: self.loss(x, t)
        grads = {}
        for key in ('w1', 'b1', 'w2', 'b2'):
            grads[key] = grad_of(f, self.params[key])
        return grads


images, labels = read_mnist(sys.argv[1])
x_train = images.reshape(images.shape[0], 784).astype('float')   # 10000 x 784 floats
y_train = onehot(labels)

iters_num = 20
train_size = x_train.shape[0]
batch_size = 32
learning_rate = 0.1
network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)

train_loss_list = []
for i in range(iters_num):
    mask = np.random.choice(train_size, batch_size)
    x_batch = x_train[mask]
    y_batch = y_train[mask]

    grad = network.gradient(x_batch, y_batch)
    for key in ('w1', 'b1', 'w2', 'b2'):
        network.params[key] = network.params[key] - learning_rate * grad[key]

    loss = network.loss(x_batch, y_batch)
    train_loss_list.append(loss)
    print(i, 'loss', loss, 'grad w1', np.abs(grad['w1']).max(), 'acc', network.accuracy(x_batch, y_batch))

x = np.arange(len(train_loss_list))
plt.plot(x, np.array(train_loss_list))
plt.show()

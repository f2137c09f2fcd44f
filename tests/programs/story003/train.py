# MNIST with one hidden layer, full-batch gradient descent
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import matplotlib.pyplot as plt
import numpy as np
from numpy import exp

np.random.seed(3)

# LOAD DATA
folder = sys.argv[1]
with gzip.open(folder + '/train-images-idx3-ubyte.gz', 'rb') as f:
    x_train = np.float32(np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)) / 255
with gzip.open(folder + '/train-labels-idx1-ubyte.gz', 'rb') as f:
    y_train = np.int32(np.frombuffer(f.read(), np.uint8, offset=8))

# SETTINGS
digits = 10
nx = x_train.shape[1]          # 784 inputs
ny = digits
m = x_train.shape[0]
Nh = 30                         # hidden nodes
alpha = 0.001
iterations = 5

# ONE HOT
classes = np.arange(digits)
y_onehot = np.zeros((m, digits))
for i in range(m):
    y_onehot[i, :] = (classes == y_train[i])

# look at a few digits
for i in range(3):
    plt.imshow(x_train[i].reshape(28, 28), cmap='Greys')
    plt.show()

y_train = np.array([y_train]).T     # labels as a column

# WEIGHTS
params = {'W1': np.random.rand(nx, Nh),
          'b1': np.zeros((1, Nh)),
          'W2': np.random.rand(Nh, ny),
          'b2': np.zeros((1, ny))}


def sigmoid(z):
    return 1 / (1 + exp(-z))


def sigmoid_der(z):
    return z * (1 - z)


def softmax(z):
    return exp(z) / sum(exp(z))


# the softmax derivative looks like the sigmoid one
def softmax_der(z):
    return sigmoid_der(z)


def cross_entropy(p, y):
    return -np.log(p[y])


def forward(X, y, params):
    cache = {'A0': X}
    cache['Z1'] = X @ params['W1'] + params['b1']
    cache['A1'] = sigmoid(cache['Z1'])
    cache['Z2'] = cache['A1'] @ params['W2'] + params['b2']
    cache['A2'] = softmax(cache['Z2'])
    cache['error'] = cross_entropy(cache['A2'], y)
    return cache


def backward(X, Y, params, cache):
    E2 = (Y - cache['A2']) * softmax_der(cache['Z2'])
    E1 = (E2 @ params['W2'].T) * sigmoid_der(cache['A1'])
    grads = {'dW2': cache['A1'].T @ E2,
             'dW1': X.T @ E1,
             'db2': np.sum(E2, 0),
             'db1': np.sum(E1, 0)}
    return grads


def optimise(params, grads):
    params['W2'] -= alpha * grads['dW2']
    params['W1'] -= alpha * grads['dW1']
    params['b2'] -= alpha * grads['db2']
    params['b1'] -= alpha * grads['db1']


for epoch in range(iterations):
    print('epoch', epoch)
    cache = forward(x_train, y_train, params)
    grads = backward(x_train, y_onehot, params, cache)
    optimise(params, grads)
    loss = 1 / ny * np.sum(cache['error'])
    print('loss', loss, 'largest weight', np.abs(params['W2']).max())

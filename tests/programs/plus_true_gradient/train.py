# 784 -> 32 -> 10, samples in columns, relu + softmax
# usage: python train.py MNIST_FOLDER
import gzip
import sys

import numpy as np

np.random.seed(23)


def load(folder):
    with gzip.open(folder + "/train-images-idx3-ubyte.gz") as f:
        X = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784).T.astype(float) / 255
    with gzip.open(folder + "/train-labels-idx1-ubyte.gz") as f:
        Y = np.frombuffer(f.read(), np.uint8, offset=8).astype(int)
    return X, Y


def init_params():
    W1 = np.random.randn(32, 784) * np.sqrt(2 / 784)
    b1 = np.zeros((32, 1))
    W2 = np.random.randn(10, 32) * np.sqrt(2 / 32)
    b2 = np.zeros((10, 1))
    return W1, b1, W2, b2


def ReLU(Z):
    return np.maximum(Z, 0)


def softmax(Z):
    A = np.exp(Z - Z.max(axis=0, keepdims=True))
    return A / A.sum(axis=0, keepdims=True)


def forward_prop(W1, b1, W2, b2, X):
    Z1 = W1.dot(X) + b1
    A1 = ReLU(Z1)
    Z2 = W2.dot(A1) + b2
    A2 = softmax(Z2)
    return Z1, A1, Z2, A2


def one_hot(Y):
    one_hot_Y = np.zeros((10, Y.size))
    one_hot_Y[Y, np.arange(Y.size)] = 1
    return one_hot_Y


def backward_prop(Z1, A1, Z2, A2, W1, W2, X, Y):
    m = Y.size
    dZ2 = A2 - one_hot(Y)
    dW2 = dZ2.dot(A1.T) / m
    db2 = np.sum(dZ2, axis=1, keepdims=True) / m
    dZ1 = W2.T.dot(dZ2) * (Z1 > 0)
    dW1 = dZ1.dot(X.T) / m
    db1 = np.sum(dZ1, axis=1, keepdims=True) / m
    return dW1, db1, dW2, db2


def update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, alpha):
    W1 = W1 + alpha * dW1
    b1 = b1 + alpha * db1
    W2 = W2 + alpha * dW2
    b2 = b2 + alpha * db2
    return W1, b1, W2, b2


def get_accuracy(A2, Y):
    return np.sum(np.argmax(A2, 0) == Y) / Y.size


X, Y = load(sys.argv[1])
W1, b1, W2, b2 = init_params()
for i in range(100):
    cols = np.random.choice(Y.size, 128, replace=False)
    Z1, A1, Z2, A2 = forward_prop(W1, b1, W2, b2, X[:, cols])
    dW1, db1, dW2, db2 = backward_prop(Z1, A1, Z2, A2, W1, W2, X[:, cols], Y[cols])
    W1, b1, W2, b2 = update_params(W1, b1, W2, b2, dW1, db1, dW2, db2, 0.1)
    if i % 10 == 0:
        loss = -np.mean(np.log(A2[Y[cols], np.arange(128)] + 1e-12))
        print("Iteration:", i, "loss", round(loss, 3), "accuracy", get_accuracy(A2, Y[cols]))

# coding: utf-8
"""MNIST loader in the book's style, but reading the gzipped IDX files from a folder.

The folder is the one given on the command line (sys.argv[1]) unless dataset_dir is passed.
"""
import gzip
import os
import sys

import numpy as np

key_file = {
    'train_img': 'train-images-idx3-ubyte.gz',
    'train_label': 'train-labels-idx1-ubyte.gz',
    'test_img': 't10k-images-idx3-ubyte.gz',
    'test_label': 't10k-labels-idx1-ubyte.gz',
}

img_size = 784


def _load_label(dataset_dir, file_name):
    path = os.path.join(dataset_dir, file_name)
    with gzip.open(path, 'rb') as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return labels


def _load_img(dataset_dir, file_name):
    path = os.path.join(dataset_dir, file_name)
    with gzip.open(path, 'rb') as f:
        data = np.frombuffer(f.read(), np.uint8, offset=16)
    return data.reshape(-1, img_size)


def _change_one_hot_label(X):
    T = np.zeros((X.size, 10))
    for idx, row in enumerate(T):
        row[X[idx]] = 1
    return T


def load_mnist(normalize=True, flatten=True, one_hot_label=False, dataset_dir=None):
    """Read MNIST.

    normalize: pixels as float32 in 0.0-1.0 (else uint8 0-255)
    one_hot_label: labels as one-hot rows like [0,0,1,0,0,0,0,0,0,0]
    flatten: images as 784-long rows (else 1x28x28)
    Returns (train image, train label), (test image, test label).
    """
    if dataset_dir is None:
        dataset_dir = sys.argv[1]
    dataset = {}
    dataset['train_img'] = _load_img(dataset_dir, key_file['train_img'])
    dataset['train_label'] = _load_label(dataset_dir, key_file['train_label'])
    dataset['test_img'] = _load_img(dataset_dir, key_file['test_img'])
    dataset['test_label'] = _load_label(dataset_dir, key_file['test_label'])

    if normalize:
        for key in ('train_img', 'test_img'):
            dataset[key] = dataset[key].astype(np.float32)
            dataset[key] /= 255.0

    if one_hot_label:
        dataset['train_label'] = _change_one_hot_label(dataset['train_label'])
        dataset['test_label'] = _change_one_hot_label(dataset['test_label'])

    if not flatten:
        for key in ('train_img', 'test_img'):
            dataset[key] = dataset[key].reshape(-1, 1, 28, 28)

    return (dataset['train_img'], dataset['train_label']), (dataset['test_img'], dataset['test_label'])

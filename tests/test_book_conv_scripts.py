"""The book's chapter-7 scripts, as a learner runs them with digitlab in place of the book's
`common/` and `dataset/` folders: its training loop on load_mnist(flatten=False), and its
gradient check of SimpleConvNet (numerical_gradient against gradient, a (1, 1) label array)."""

import numpy as np

from digitlab import SimpleConvNet
from digitlab.datasets import load_mnist
from digitlab.train import Adam


def test_the_books_conv_training_loop_on_images_from_load_mnist():
    (x_train, t_train), (x_test, t_test) = load_mnist(
        flatten=False, dataset="mnist-10k", progress=False
    )
    assert x_train.shape == (10_000, 1, 28, 28) and x_test.shape == (10_000, 1, 28, 28)
    assert x_train.dtype == np.float32 and x_train.max() == 1.0
    network = SimpleConvNet(
        input_dim=(1, 28, 28),
        conv_param={"filter_num": 8, "filter_size": 5, "pad": 0, "stride": 1},
        hidden_size=50,
        output_size=10,
        weight_init_std=0.01,
    )
    optimizer = Adam(lr=0.001)  # the book's train_convnet.py: Adam, lr 0.001, batch 100
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(200):
        batch_mask = rng.choice(x_train.shape[0], 100)
        x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)
        losses.append(network.loss(x_batch, t_batch))
    # measured (unseeded, as the book's): the loss falls from 2.26 to 0.32-0.34, and 88% of the
    # first 1,000 test digits are read after these 200 steps (20,000 draws from the 10,000
    # shipped images)
    assert np.mean(losses[-20:]) < 0.5 < 2.0 < np.mean(losses[:20])
    assert network.accuracy(x_test[:1000], t_test[:1000], batch_size=100) > 0.85


def test_the_books_gradient_check_of_simple_conv_net():
    network = SimpleConvNet(
        input_dim=(1, 10, 10),
        conv_param={"filter_num": 10, "filter_size": 3, "pad": 0, "stride": 1},
        hidden_size=10,
        output_size=10,
        weight_init_std=0.01,
        seed=0,  # the book draws from numpy's global generator; a test needs the same draw
    )
    X = np.random.default_rng(0).random(100).reshape((1, 1, 10, 10))
    T = np.array([1]).reshape((1, 1))
    grad_num = network.numerical_gradient(X, T)
    grad = network.gradient(X, T)
    for key, value in grad_num.items():
        difference = np.abs(value - grad[key])
        # the book prints difference.mean(); with its step h = 1e-4 a few coordinates of W1 and
        # b1 step over a ReLU or max-pooling kink (a handful of 90), every other one agrees
        # to rounding: a wrong backward pass is off everywhere, by the gradient's own size
        assert np.median(difference) < 1e-9, key
        assert difference.mean() < 0.05 * np.abs(grad[key]).mean(), key
    assert set(grad_num) == {"W1", "b1", "W2", "b2", "W3", "b3"}

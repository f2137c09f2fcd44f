"""The Trainer: every sample once per epoch, seeded, and a run that learns MNIST."""

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from digitlab import SGD, ConfigError, History, SimpleConvNet, Trainer, TwoLayerNet
from digitlab.train.threads import SMALL_STEP


class SpyNetwork:
    """Records which samples each step sees; its 'gradient' is zero."""

    def __init__(self):
        self.params = {"w": np.zeros(1)}
        self.batches = []

    def loss_and_gradient(self, x, t):
        self.batches.append(x[:, 0].astype(int).tolist())
        return 1.0, {"w": np.zeros(1)}

    def accuracy(self, x, t):
        return 0.5


def test_every_sample_once_per_epoch_in_a_fresh_order():
    spy = SpyNetwork()
    n, batch = 23, 5
    x = np.arange(n, dtype=float)[:, None]
    history = Trainer(spy, epochs=3, batch_size=batch, seed=1, progress=False, log=None).fit(
        x, np.zeros(n, dtype=int)
    )
    assert [len(b) for b in spy.batches] == [5, 5, 5, 5, 3] * 3
    epochs = [[i for b in spy.batches[e * 5 : (e + 1) * 5] for i in b] for e in range(3)]
    for order in epochs:
        assert sorted(order) == list(range(n))
    # a fresh shuffle each epoch: no two epochs alike (a != b != c would let a == c pass)
    assert len({tuple(order) for order in epochs}) == 3
    assert history.steps_per_epoch == 5 and len(history.loss) == 15 and history.epochs == 3


def test_same_seed_same_run_different_seed_different_run():
    rng = np.random.default_rng(0)
    x, t = rng.random((60, 8)), rng.integers(0, 3, 60)

    def run(seed):
        net = TwoLayerNet(8, 6, 3, seed=0)
        Trainer(net, SGD(0.5), epochs=2, batch_size=7, seed=seed, progress=False, log=None).fit(
            x, t
        )
        return net.params["W1"]

    assert np.array_equal(run(4), run(4))
    assert not np.array_equal(run(4), run(5))


def test_summary_line_per_epoch():
    rng = np.random.default_rng(0)
    x, t = rng.random((30, 4)), rng.integers(0, 2, 30)
    lines = []
    Trainer(TwoLayerNet(4, 3, 2), epochs=2, progress=False, log=lines.append).fit(x, t, x, t)
    # the watcher may add its own lines (dead units in this tiny net at step 1)
    epochs = [line for line in lines if line.startswith("epoch ")]
    assert len(epochs) == 2
    assert epochs[1].startswith("epoch 2/2  loss ")
    assert "  train " in epochs[1] and "%  test " in epochs[1]


def test_a_book_style_network_without_loss_and_gradient_trains():
    class BookNet:
        def __init__(self):
            self.inner = TwoLayerNet(4, 3, 2, weight_init_std=0.5, seed=0)
            self.params = self.inner.params

        def loss(self, x, t):
            return self.inner.loss(x, t)

        def gradient(self, x, t):
            return self.inner.gradient(x, t)

        def accuracy(self, x, t):
            return self.inner.accuracy(x, t)

    rng = np.random.default_rng(0)
    x = rng.random((40, 4))
    t = (x[:, 0] > 0.5).astype(int)
    net = BookNet()
    history = Trainer(net, SGD(1.0), epochs=30, batch_size=10, progress=False, log=None).fit(x, t)
    assert history.epoch_loss[-1] < history.epoch_loss[0] * 0.7


def test_trains_mnist_10k_above_95_percent(mnist_10k_inputs):
    x_train, t_train, x_test, t_test = mnist_10k_inputs
    net = TwoLayerNet(784, 256, 10, weight_init_std="he", seed=0, dtype="float32")
    history = Trainer(net, SGD(0.5), epochs=20, progress=False, log=None).fit(
        x_train, t_train, x_test, t_test
    )
    assert history.test_acc[-1] >= 0.95
    assert history.epoch_loss[-1] < history.epoch_loss[0] / 5


def test_history_round_trip(tmp_path):
    h = History(
        loss=[2.0, 1.5],
        epoch_loss=[1.75],
        train_acc=[0.5],
        test_acc=[0.4],
        steps_per_epoch=2,
        seconds=[0.1],
    )
    h.save(tmp_path / "h.json")
    assert History.load(tmp_path / "h.json") == h
    assert repr(h) == "History(1 epochs, 2 steps, train 50.0%, test 40.0%)"


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"epochs": 0}, "epochs=0 must be a whole number >= 1"),
        ({"epochs": -3}, "epochs=-3"),
        ({"epochs": True}, "epochs=True"),  # a bool is no count of epochs
        ({"epochs": 2.5}, "epochs=2.5"),
        ({"batch_size": 0}, "batch_size=0 must be a whole number >= 1"),
        ({"batch_size": False}, "batch_size=False"),
    ],
)
def test_bad_trainer_settings(kwargs, named):
    with pytest.raises(ConfigError, match=named):
        Trainer(TwoLayerNet(4, 3, 2), **kwargs)


def test_bad_learning_rate():
    with pytest.raises(ConfigError, match="learning rate"):
        SGD(-0.1)


def test_callbacks_see_every_step_and_can_stop_the_run():
    rng = np.random.default_rng(0)
    x, t = rng.random((50, 4)), rng.integers(0, 2, 50)
    seen = []

    class Watcher:
        def on_train_begin(self, trainer):
            seen.append("begin")

        def on_step_end(self, trainer, step, loss, grads):
            seen.append(step)
            assert set(grads) == {"W1", "b1", "W2", "b2"} and loss > 0
            if step == 7:
                trainer.stop("step 7 is enough")

        def on_epoch_end(self, trainer, epoch):
            seen.append(f"epoch {epoch}")

    lines = []
    trainer = Trainer(
        TwoLayerNet(4, 3, 2),
        epochs=5,
        batch_size=10,
        progress=False,
        log=lines.append,
        callbacks=[Watcher()],
    )
    history = trainer.fit(x, t)
    assert seen == ["begin", 1, 2, 3, 4, 5, "epoch 1", 6, 7, "epoch 2"]
    assert history.stopped == "step 7 is enough" and len(history.loss) == 7
    assert history.epochs == 2 and lines[-1] == "stopped: step 7 is enough"


def test_train_accuracy_on_a_fixed_subset_of_a_large_training_set(mnist_10k_inputs):
    """Above train_accuracy_samples, the accuracy after each epoch is measured on every k-th
    sample (close to the full pass); the training itself is unchanged."""
    x, t = mnist_10k_inputs[0], mnist_10k_inputs[1]

    def run(samples):
        net = TwoLayerNet(784, 32, 10, seed=0, dtype="float32")
        trainer = Trainer(
            net,
            SGD(0.5),
            epochs=2,
            log=None,
            progress=False,
            train_accuracy_samples=samples,
        )
        return net, trainer.fit(x, t)

    full_net, full = run(None)
    sub_net, sub = run(2000)
    assert all(np.array_equal(full_net.params[k], sub_net.params[k]) for k in full_net.params)
    assert full.train_acc[-1] == full_net.accuracy(x, t)
    assert sub.train_acc[-1] != full.train_acc[-1]  # measured on 2,000 samples, not 10,000
    assert sub.train_acc[-1] == sub_net.accuracy(x[::5], t[::5])  # every 5th of 10,000
    assert abs(sub.train_acc[-1] - full.train_acc[-1]) < 0.02
    odd_net, odd = run(3000)  # 10,000 / 3,000: every 4th, 2,500 samples (never more than asked)
    assert odd.train_acc[-1] == odd_net.accuracy(x[::4], t[::4])
    with pytest.raises(ConfigError, match="train_accuracy_samples"):
        Trainer(full_net, train_accuracy_samples=0)


def _blas_threads_seen(network, x, t, **trainer_kwargs) -> set[int]:
    """The BLAS thread counts (threadpoolctl's view) during each step of a one-epoch fit."""
    seen: set[int] = set()

    class Spy:
        def on_step_end(self, trainer, step, loss, grads):
            seen.update(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")

    trainer = Trainer(network, epochs=1, log=None, callbacks=[Spy()], **trainer_kwargs)
    trainer.fit(x, t)
    return seen


def test_small_steps_train_on_one_blas_thread_and_the_setting_comes_back():
    x, t = np.random.default_rng(0).random((300, 784)), np.arange(300) % 10
    with threadpool_limits(2, user_api="blas"):
        assert _blas_threads_seen(TwoLayerNet(784, 100, 10, seed=0), x, t) == {1}
        # the library's own choice: where the run asks for it, or where a step is large
        assert _blas_threads_seen(TwoLayerNet(784, 100, 10), x, t, blas_threads=None) == {2}
        wide = TwoLayerNet(784, 256, 10, seed=0)  # 100 x 784 x 256: 20 million
        assert wide.multiply_adds(100) > SMALL_STEP
        assert _blas_threads_seen(wide, x, t) == {2}
        after = {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"}
        assert after == {2}


def test_multiply_adds_are_the_products_of_a_batch():
    assert TwoLayerNet(784, 100, 10).multiply_adds(100) == 100 * (784 * 100 + 100 * 10)
    # per sample: 30 filters x their 25 weights x 24*24 positions, then the affine layers
    assert SimpleConvNet(hidden_size=256).multiply_adds(100) == 100 * (
        30 * 25 * 576 + 4320 * 256 + 256 * 10
    )


@pytest.mark.parametrize("setting", [0, -1, 1.5, True, "many"])
def test_a_wrong_blas_thread_setting_is_refused(setting):
    with pytest.raises(ConfigError, match="blas_threads"):
        Trainer(TwoLayerNet(784, 10, 10), blas_threads=setting)

"""Early stopping and the validation split: patience, the best weights restored, seeded splits."""

import json

import numpy as np
import pytest

from digitlab import MLP, ConfigError, History, Trainer, TwoLayerNet
from digitlab.datasets import train_validation_split
from digitlab.train import SGD, Adam, EarlyStopping


class ScriptedNetwork:
    """One parameter that counts the steps (SGD(1) on a gradient of -1), and a validation
    accuracy read from a script, one value per epoch."""

    def __init__(self, val_acc):
        self.params = {"w": np.zeros(1)}
        self.val_acc = iter(val_acc)
        self.last = None

    def loss_and_gradient(self, x, t):
        return 1.0, {"w": np.array([-1.0])}

    def accuracy(self, x, t):
        if x.shape[0] == 1:  # the validation set of these tests has one sample
            self.last = next(self.val_acc)
            return self.last
        return 0.5

    def loss(self, x, t):
        return 1.0 - self.last


def fit_scripted(val_acc, stopper, epochs=10):
    net = ScriptedNetwork(val_acc)
    weights = net.params["w"]
    x, t = np.zeros((4, 1)), np.zeros(4, dtype=int)
    lines = []
    trainer = Trainer(
        net, SGD(1.0), epochs=epochs, batch_size=4, log=lines.append, callbacks=[stopper]
    )
    history = trainer.fit(x, t, validation=(x[:1], t[:1]))
    assert net.params["w"] is weights  # restored in place: layers holding the array see it
    return net, history, lines


def test_stops_after_patience_and_restores_the_best_epoch():
    # Best 0.7 at epoch 2; epoch 4 only equals it; the third epoch without a better one is 5.
    net, history, lines = fit_scripted([0.5, 0.7, 0.6, 0.7, 0.65, 0.9], EarlyStopping(patience=3))
    assert history.epochs == 5 and history.val_acc == [0.5, 0.7, 0.6, 0.7, 0.65]
    assert history.best_epoch == 2 and net.params["w"][0] == 2.0  # one step per epoch
    assert history.stopped == "no better validation accuracy for 3 epochs (best 70.00% at epoch 2)"
    assert lines[-1] == "restored the weights of epoch 2"
    assert "  val 65.0%" in lines[-3]


def test_min_delta_and_monitoring_the_loss():
    # val_loss = 1 - accuracy: 0.5, 0.3, 0.29, 0.28, 0.1. With min_delta 0.05 only epoch 2
    # improves on epoch 1; patience 2 stops after epoch 4, before the real gain of epoch 5.
    stopper = EarlyStopping(patience=2, monitor="val_loss", min_delta=0.05)
    net, history, _ = fit_scripted([0.5, 0.7, 0.71, 0.72, 0.9], stopper)
    assert history.epochs == 4 and history.best_epoch == 2 and net.params["w"][0] == 2.0
    assert history.val_loss == pytest.approx([0.5, 0.3, 0.29, 0.28])


def test_restores_the_best_weights_when_the_run_ends_without_stopping():
    net, history, _ = fit_scripted([0.5, 0.8, 0.6], EarlyStopping(patience=5), epochs=3)
    assert history.stopped is None and history.best_epoch == 2 and net.params["w"][0] == 2.0


def test_restore_best_false_keeps_the_last_weights():
    stopper = EarlyStopping(patience=1, restore_best=False)
    net, history, _ = fit_scripted([0.5, 0.8, 0.6], stopper, epochs=3)
    assert history.best_epoch == 2 and net.params["w"][0] == 3.0


def test_early_stopping_needs_a_validation_set():
    x, t = np.zeros((4, 1)), np.zeros(4, dtype=int)
    trainer = Trainer(ScriptedNetwork([]), SGD(1.0), log=None, callbacks=[EarlyStopping()])
    with pytest.raises(ConfigError, match=r"validation=\(x_val, t_val\)"):
        trainer.fit(x, t)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"patience": 0}, "patience=0 must be a whole number >= 1"),
        ({"patience": 2.5}, "patience=2.5 must be a whole number"),
        ({"monitor": "test_acc"}, "monitor='test_acc' is not known"),
        ({"min_delta": -0.1}, "min_delta=-0.1 must be a number >= 0"),
    ],
)
def test_bad_settings_name_the_field(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        EarlyStopping(**kwargs)


def test_on_mnist_the_network_ends_with_its_best_validation_weights(mnist_10k_inputs):
    x, t = mnist_10k_inputs[0][:3000], mnist_10k_inputs[1][:3000]
    (x_fit, t_fit), (x_val, t_val) = train_validation_split(x, t, 0.2, seed=0)
    net = TwoLayerNet(784, 64, 10, weight_init_std="he", seed=0, dtype="float32")
    # A large Adam step makes the validation accuracy wander, so the best is not the last.
    stopper = EarlyStopping(patience=3)
    history = Trainer(net, Adam(0.01), epochs=12, log=None, callbacks=[stopper]).fit(
        x_fit, t_fit, validation=(x_val, t_val)
    )
    best = history.best_epoch
    assert best < history.epochs and history.val_acc[best - 1] == max(history.val_acc)
    assert net.accuracy(x_val, t_val) == history.val_acc[best - 1]
    assert len(history.val_loss) == len(history.lr) == history.epochs


def test_split_is_a_seeded_partition():
    x = np.arange(50, dtype=float)[:, None] * np.ones((1, 3))
    t = np.arange(50)
    (x_fit, t_fit), (x_val, t_val) = train_validation_split(x, t, 0.2, seed=3)
    assert len(t_val) == 10 and len(t_fit) == 40
    assert sorted([*t_fit, *t_val]) == list(range(50))
    assert np.array_equal(x_fit[:, 0], t_fit) and np.array_equal(x_val[:, 2], t_val)
    assert np.all(np.diff(t_fit) > 0)  # the training part keeps the original order
    again = train_validation_split(x, t, 0.2, seed=3)[1][1]
    other = train_validation_split(x, t, 0.2, rng=np.random.default_rng(4))[1][1]
    assert np.array_equal(again, t_val) and not np.array_equal(other, t_val)


@pytest.mark.parametrize(
    ("n_x", "n_t", "fraction", "match"),
    [
        (10, 10, 0.0, "fraction=0.0 must be a number in \\(0, 1\\)"),
        (10, 10, 1.0, "fraction=1.0 must be"),
        (10, 9, 0.1, "10 inputs and 9 labels"),
        (1, 1, 0.5, "at least 2"),
    ],
)
def test_bad_splits(n_x, n_t, fraction, match):
    with pytest.raises(ConfigError, match=match):
        train_validation_split(np.zeros((n_x, 2)), np.zeros(n_t), fraction)


def test_history_keeps_validation_lr_and_best_epoch_and_reads_older_files(tmp_path):
    h = History(loss=[1.0], val_acc=[0.9], val_loss=[0.3], lr=[0.1], best_epoch=1)
    h.save(tmp_path / "h.json")
    assert History.load(tmp_path / "h.json") == h
    (tmp_path / "old.json").write_text(json.dumps({"loss": [2.0], "train_acc": [0.5]}))
    old = History.load(tmp_path / "old.json")
    assert old.val_acc == [] and old.lr == [] and old.best_epoch is None


def test_batchnorm_running_statistics_come_back_with_the_best_weights(mnist_10k_inputs):
    """In eval mode BatchNorm uses its running statistics: restoring the weights alone would
    pair the best epoch's weights with the last epoch's statistics."""
    x, t = mnist_10k_inputs[0][:3000], mnist_10k_inputs[1][:3000]
    (x_fit, t_fit), (x_val, t_val) = train_validation_split(x, t, 0.2, seed=0)
    net = MLP(784, [64], 10, use_batchnorm=True, seed=0, dtype="float32")
    history = Trainer(
        net, Adam(0.01), epochs=12, log=None, callbacks=[EarlyStopping(patience=3)]
    ).fit(x_fit, t_fit, validation=(x_val, t_val))
    best = history.best_epoch
    assert best < history.epochs
    assert net.accuracy(x_val, t_val) == history.val_acc[best - 1]

"""Learning-rate schedules: their values, and the Trainer applying them step by step."""

import math

import numpy as np
import pytest

from digitlab import ConfigError, Trainer, TwoLayerNet
from digitlab.train import SGD, Adam, Constant, Cosine, StepDecay, Warmup


def test_step_decay():
    schedule = StepDecay(every=2, gamma=0.5)
    assert [schedule(e) for e in (0, 1.99, 2, 3.5, 4, 6)] == [1, 1, 0.5, 0.5, 0.25, 0.125]


def test_cosine_from_one_to_final_then_flat():
    schedule = Cosine(epochs=4, final=0.1)
    assert schedule(0) == 1.0
    assert schedule(2) == pytest.approx(0.55)  # halfway: the mean of 1 and 0.1
    assert schedule(1) == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi / 4)) / 2)
    assert schedule(4) == pytest.approx(0.1) and schedule(9) == pytest.approx(0.1)


def test_warmup_rises_linearly_then_hands_over_shifted():
    schedule = Warmup(Cosine(epochs=10), epochs=2, start=0.2)
    assert schedule(0) == pytest.approx(0.2)
    assert schedule(1) == pytest.approx(0.6)  # halfway from 0.2 to 1
    assert schedule(2) == 1.0  # the cosine's start
    assert schedule(7) == pytest.approx(0.5)  # the cosine's middle, 5 epochs in
    assert Warmup(StepDecay(1, 0.1), epochs=1, start=0)(2.5) == pytest.approx(0.1)
    assert Warmup(epochs=1)(5) == Constant()(5) == 1.0


@pytest.mark.parametrize(
    ("make", "field"),
    [
        (lambda: StepDecay(every=0), "every"),
        (lambda: StepDecay(every=1, gamma=0), "gamma"),
        (lambda: Cosine(epochs=-1), "epochs"),
        (lambda: Cosine(epochs=5, final=2), "final"),
        (lambda: Warmup(Constant(), epochs=0), "epochs"),
        (lambda: Warmup(Constant(), start=1.5), "start"),
        (lambda: Warmup(0.1), "schedule"),
    ],
)
def test_bad_settings_name_the_field(make, field):
    with pytest.raises(ConfigError, match=rf"\b{field}=.* must be "):
        make()


def test_reprs():
    assert repr(Warmup(Cosine(epochs=10), epochs=1)) == (
        "Warmup(Cosine(epochs=10, final=0), epochs=1, start=0.1)"
    )
    assert repr(StepDecay(5)) == "StepDecay(every=5, gamma=0.1)"


class LrSpy(SGD):
    """SGD that records the learning rate of every update."""

    def __init__(self, lr):
        super().__init__(lr)
        self.seen = []

    def update(self, params, grads):
        self.seen.append(self.lr)
        super().update(params, grads)


def test_trainer_sets_the_lr_before_every_step_and_records_it_per_epoch():
    rng = np.random.default_rng(0)
    x, t = rng.random((40, 4)), rng.integers(0, 2, 40)
    optimizer = LrSpy(0.2)
    schedule = Warmup(StepDecay(every=1, gamma=0.5), epochs=1, start=0.0)
    trainer = Trainer(
        TwoLayerNet(4, 3, 2), optimizer, epochs=3, batch_size=10, schedule=schedule, log=None
    )
    history = trainer.fit(x, t)
    # 4 steps per epoch: warm-up 0, 1/4, 2/4, 3/4 of 0.2, then 0.2 for epoch 2 and 0.1 for 3.
    want = [0.0, 0.05, 0.1, 0.15] + [0.2] * 4 + [0.1] * 4
    assert optimizer.seen == pytest.approx(want)
    assert history.lr == pytest.approx([0.15, 0.2, 0.1])
    # A second fit goes on where the first ended (epoch 4: 0.05), from the same base lr.
    trainer.epochs = 1
    trainer.fit(x, t)
    assert optimizer.seen[-1] == pytest.approx(0.05) and trainer.base_lr == 0.2


def test_lr_is_recorded_without_a_schedule_too():
    rng = np.random.default_rng(0)
    x, t = rng.random((20, 4)), rng.integers(0, 2, 20)
    history = Trainer(TwoLayerNet(4, 3, 2), Adam(0.01), epochs=2, log=None).fit(x, t)
    assert history.lr == [0.01, 0.01]


def test_a_schedule_needs_an_optimizer_with_an_lr():
    class NoLr:
        def update(self, params, grads):
            pass

    with pytest.raises(ConfigError, match="has no lr"):
        Trainer(TwoLayerNet(4, 3, 2), NoLr(), schedule=Cosine(epochs=3))


def test_cosine_schedule_trains_mnist_10k(mnist_10k_inputs):
    # Measured: 92.9% on the test set (constant lr 0.5: 93.4%; three epochs are too few for a
    # schedule to pay off, this checks that one trains and ends near lr 0).
    x_train, t_train, x_test, t_test = mnist_10k_inputs
    net = TwoLayerNet(784, 100, 10, weight_init_std="he", seed=0, dtype="float32")
    schedule = Warmup(Cosine(epochs=2), epochs=1)
    history = Trainer(net, SGD(0.5), epochs=3, schedule=schedule, log=None).fit(
        x_train, t_train, x_test, t_test
    )
    assert history.lr[-1] < 1e-3 and history.test_acc[-1] >= 0.92
    assert net.params["W1"].dtype == np.float32

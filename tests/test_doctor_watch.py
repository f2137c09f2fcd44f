"""The training watcher: a run that diverges stops with the finding that explains it, a healthy
run is left alone, and a learner's own loop can call the same checks."""

import warnings

import numpy as np
import pytest

from digitlab import SGD, Trainer, TwoLayerNet
from digitlab.doctor import ERROR, WARNING
from digitlab.doctor.watch import TrainingWatcher
from gallery import LearnerNet, Seed003ExplodingToNaN


@pytest.fixture(scope="module")
def data(mnist_10k_inputs):
    """2,000 training images (float32 in [0, 1]) and their labels."""
    return mnist_10k_inputs[0][:2000], mnist_10k_inputs[1][:2000]


def test_a_too_high_learning_rate_stops_the_run_with_the_reason(data):
    x, t = data
    network = TwoLayerNet(784, 100, 10, "he", seed=0)
    lines = []
    trainer = Trainer(network, SGD(50.0), epochs=5, progress=False, log=lines.append)
    history = trainer.fit(x, t)
    stop = trainer.watcher.stopped_by
    assert stop is not None and stop.code == "learning-rate-too-high" and stop.severity == ERROR
    assert stop.evidence["loss_now"] > 3 * stop.evidence["loss_start"]
    # it stopped within the first steps, before any NaN, and says why
    assert len(history.loss) <= 5 and np.all(np.isfinite(history.loss))
    assert history.stopped == stop.message
    assert history.epochs == 1
    assert any(line.startswith("stopped: The loss rose from ") for line in lines)


def test_a_healthy_run_is_left_alone(data):
    x, t = data
    network = TwoLayerNet(784, 100, 10, "he", seed=0)
    trainer = Trainer(network, SGD(0.5), epochs=3, progress=False, log=None)
    history = trainer.fit(x, t)
    assert history.stopped is None and history.epochs == 3
    assert trainer.watcher.findings == []
    assert trainer.watcher in trainer.callbacks


def test_the_watcher_can_be_left_out(data):
    x, t = data
    trainer = Trainer(
        TwoLayerNet(784, 20, 10, seed=0), epochs=1, progress=False, log=None, watch=False
    )
    trainer.fit(x, t)
    assert trainer.watcher is None and trainer.callbacks == []


def test_a_learners_loop_stops_at_the_first_nan():
    """Seed 003's loop: one step at alpha = 0.001 with its summed, wrong gradient is enough."""
    rng = np.random.default_rng(0)
    X = rng.random((200, 784)).astype(np.float32)
    y = rng.integers(0, 10, (200, 1))
    network = Seed003ExplodingToNaN()
    watcher = TrainingWatcher()
    stop, steps = None, 0
    with warnings.catch_warnings(), np.errstate(all="ignore"):  # the learner's own overflows
        warnings.simplefilter("ignore")
        for _ in range(10):
            steps += 1
            grads = network.gradient(X, y)
            grads = {name: grads["d" + name] for name in network.params}
            for name in network.params:
                network.params[name] -= 0.001 * grads[name]
            loss = network.loss(X, y)
            if stop := watcher.check_step(network, loss, grads, learning_rate=0.001):
                break
    assert stop is not None and stop.code == "non-finite" and steps == 1
    assert stop.evidence["largest_weight"] > 1e4
    assert "Training stopped instead of going on with NaN" in stop.message
    assert watcher.stopped_by is stop


def test_a_rising_loss_that_turns_nan_is_explained_by_the_learning_rate():
    class Toy:
        def __init__(self):
            self.params = {"W1": np.ones((3, 2))}

    watcher = TrainingWatcher()
    for loss in (2.3, 2.2, 5.0):
        assert watcher.check_step(Toy(), loss) is None
    stop = watcher.check_step(Toy(), np.nan)
    assert stop.code == "learning-rate-too-high"
    assert [f.code for f in watcher.findings] == ["non-finite", "learning-rate-too-high"]


def test_dead_units_and_update_ratio_are_noted_without_stopping(data):
    x, t = data
    network = TwoLayerNet(784, 100, 10, "he", seed=0)
    network.params["b1"][:60] = -50.0  # 60 of 100 units can never fire
    lines = []
    watcher = TrainingWatcher(every=1, log=lines.append)
    loss, grads = network.loss_and_gradient(x[:100], t[:100])
    assert watcher.check_step(network, loss, grads, learning_rate=1e4) is None
    found = {f.code: f for f in watcher.findings}
    assert found["dead-units"].severity == ERROR and found["dead-units"].subject == "W1"
    assert found["dead-units"].evidence["dead"] >= 60
    assert found["exploding-gradient"].evidence["update_ratio"] > 1
    assert lines and lines[0].startswith("doctor: error: ")
    # noted once, not every step
    count = len(watcher.findings)
    watcher.check_step(network, loss, grads, learning_rate=1e4)
    assert len(watcher.findings) == count


def test_saturated_sigmoids_are_noted(data):
    x, t = data
    network = TwoLayerNet(784, 100, 10, 1.0, activation="sigmoid", seed=0)
    watcher = TrainingWatcher(every=1)
    loss, grads = network.loss_and_gradient(x[:100], t[:100])
    watcher.check_step(network, loss, grads)
    (finding,) = watcher.findings
    assert finding.code == "activations-saturated" and finding.evidence["fraction"] > 0.5


def test_a_stalled_loss_is_a_warning(monkeypatch, data):
    import digitlab.doctor.watch as watch

    monkeypatch.setattr(watch, "WATCH_STALL_STEPS", 60)
    x, t = data
    network = LearnerNet(784, 30, 10)
    T = np.eye(10)[t]
    watcher = TrainingWatcher(every=20)
    for step in range(60):
        batch = slice(step * 20 % 2000, step * 20 % 2000 + 20)
        grads = network.gradient(x[batch], T[batch])
        for name in grads:
            network.params[name] -= 1e-4 * grads[name]
        assert watcher.check_step(network, network.loss(x[batch], T[batch]), grads) is None
    (finding,) = watcher.findings
    assert finding.code == "loss-stalled" and finding.severity == WARNING


def test_the_watcher_speaks_chinese():
    class Toy:
        def __init__(self):
            self.params = {"W1": np.ones((3, 2))}

    watcher = TrainingWatcher(lang="zh")
    watcher.check_step(Toy(), 2.3)
    stop = watcher.check_step(Toy(), 100.0)
    assert "学习率" in stop.fix and "损失" in stop.message


def test_the_update_ratio_of_any_optimizer_from_the_weights_themselves():
    """Without a learning rate the watcher compares the weights before and after the step."""

    class Toy:
        def __init__(self):
            self.params = {"W1": np.full((100, 10), 0.1), "b1": np.zeros(10)}

    network = Toy()
    watcher = TrainingWatcher(every=2)
    watcher.check_step(network, 2.3)  # step 1: the weights are copied aside
    network.params["W1"] += 5.0  # an update 50 times the weights' size
    network.params["b1"] += 100.0  # biases are not judged
    assert watcher.check_step(network, 2.2) is None  # step 2: measured, noted, not stopped
    (finding,) = watcher.findings
    assert finding.code == "exploding-gradient" and finding.subject == "W1"
    assert finding.evidence["update_ratio"] == pytest.approx(50, rel=0.01)

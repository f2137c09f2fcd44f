"""The training watcher: a run that diverges stops with the finding that explains it, a healthy
run is left alone, and a learner's own loop can call the same checks."""

import warnings

import numpy as np
import pytest

from digitlab import SGD, Trainer, TwoLayerNet
from digitlab.doctor import ERROR, WARNING
from digitlab.doctor.watch import TrainingWatcher
from gallery import LearnerNet, Seed003ExplodingToNaN, sigmoid, softmax


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


def test_a_schedule_decaying_the_rate_to_zero_is_not_a_rate_too_low(data):
    x, t = data

    def decayed(epoch):  # as a cosine schedule's last steps: the rate nearly 0, on purpose
        return 1.0 if epoch < 1 else 1e-9

    def fit(rate, schedule):
        watcher = TrainingWatcher(every=10)
        network = TwoLayerNet(784, 100, 10, "he", seed=0)
        Trainer(
            network, SGD(rate), epochs=2, schedule=schedule, callbacks=[watcher], progress=False
        ).fit(x, t)
        return {f.code for f in watcher.findings}

    assert "learning-rate-too-low" not in fit(0.5, decayed)
    # the same tiny rate set for the whole run is named
    assert "learning-rate-too-low" in fit(0.5e-9, None)


def test_an_optimizer_without_a_learning_rate_is_watched_from_the_weights(data):
    """A learner's own optimizer needs only update(params, grads); the watcher then measures
    the steps from the weights themselves."""

    class QuarterSteps:
        def update(self, params, grads):
            for name, grad in grads.items():
                params[name] -= 0.25 * grad

    x, t = data
    trainer = Trainer(
        TwoLayerNet(784, 32, 10, "he", seed=0), QuarterSteps(), epochs=1, progress=False
    )
    history = trainer.fit(x, t)
    assert history.stopped is None and history.lr == []  # no rate to record, and none needed
    assert history.epoch_loss[-1] < 2.0 and trainer.watcher.findings == []  # chance: 2.3


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
    watcher = TrainingWatcher(network, every=1, log=lines.append)
    loss, grads = network.loss_and_gradient(x[:100], t[:100])
    learning_rate = 50.0  # updates about 3.5 times the weights: too large, not ruinous
    for name in grads:
        network.params[name] -= learning_rate * grads[name]
    assert watcher.check_step(network, loss, grads, learning_rate=learning_rate) is None
    found = {f.code: f for f in watcher.findings}
    assert found["dead-units"].severity == ERROR and found["dead-units"].subject == "W1"
    assert found["dead-units"].evidence["dead"] >= 60
    assert 1 < found["exploding-gradient"].evidence["update_ratio"] < 10
    assert lines and lines[0].startswith("doctor: error: ")
    # noted once, not every step
    count = len(watcher.findings)
    for name in grads:
        network.params[name] -= learning_rate * grads[name]
    watcher.check_step(network, loss, grads, learning_rate=learning_rate)
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
    watcher.check_step(network, 2.3)  # step 1: no copy before it; the weights are copied now
    network.params["W1"] += 0.5  # an update 5 times the weights' size
    network.params["b1"] += 100.0  # biases are not judged
    assert watcher.check_step(network, 2.2) is None  # step 2: measured, noted, not stopped
    (finding,) = watcher.findings
    assert finding.code == "exploding-gradient" and finding.subject == "W1"
    assert finding.evidence["update_ratio"] == pytest.approx(5, rel=0.01)
    assert finding.evidence["weight_rms"] == pytest.approx(0.1)  # the weights before the step
    network.params["W1"] += 60.0  # step 3: not measured (the next full check is step 4)
    assert watcher.check_step(network, 2.2) is None
    network.params["W1"] *= 20  # about 20 times their size: the weights are replaced, not moved
    stop = watcher.check_step(network, 2.2)
    assert stop.code == "exploding-gradient" and stop.evidence["update_ratio"] == pytest.approx(19)


def test_only_weight_matrices_are_judged_by_their_updates():
    """A BatchNorm scale (1-D, not named like a bias) and a number kept among the params are
    not weight matrices: however far they move, the update ratio is the matrices' alone."""

    class Toy:
        def __init__(self):
            self.params = {"W1": np.full((100, 10), 0.1), "gamma1": np.ones(10), "scale": 2.0}

    network = Toy()
    watcher = TrainingWatcher(every=2)
    watcher.check_step(network, 2.3)
    network.params["W1"] += 0.001  # a healthy step of 1% of the weights
    network.params["gamma1"] += 10.0
    network.params["scale"] = 50.0
    assert watcher.check_step(network, 2.2) is None
    assert watcher.findings == []


# -- story 001: the summed gradient added with no learning rate ------------------------------


def story_001_step(X, T, W1, W2):
    """One iteration of story 001's loop, in place: sigmoid 784-16-10, squared-error deltas
    (target - output) * out * (1 - out) summed over every image, added with no learning rate.
    Returns the loss of the forward pass (before the update) and the two sums."""
    hidden = sigmoid(X @ W1)
    output = sigmoid(hidden @ W2)
    output_delta = (T - output) * output * (1 - output)
    hidden_delta = (output_delta @ W2.T) * hidden * (1 - hidden)
    w1, w2 = X.T @ hidden_delta, hidden.T @ output_delta
    W1 += w1
    W2 += w2
    return 0.5 * float(np.sum((T - output) ** 2)) / len(X), w1, w2


@pytest.fixture(scope="module")
def story_001_data(mnist_10k_inputs):
    """The 10,000 training images of mnist-10k (float64 in [0, 1]) and one-hot targets."""
    return mnist_10k_inputs[0].astype(np.float64), np.eye(10)[mnist_10k_inputs[1]]


@pytest.mark.parametrize("told", ["weights before", "gradients, learning rate 1"])
def test_story_001_is_stopped_at_its_first_step(story_001_data, told):
    """The first update is judged against the weights before it: about 800 times their size,
    not the '1 times' of an update compared with the weights it has just replaced."""
    X, T = story_001_data
    rng = np.random.default_rng(1)
    W1 = 2 * rng.random((784, 16)) - 1
    W2 = 2 * rng.random((16, 10)) - 1
    W2_before = W2.copy()
    watcher = TrainingWatcher({"W1": W1, "W2": W2} if told == "weights before" else None)
    stop, steps = None, 0
    for _ in range(10):
        steps += 1
        loss, w1, w2 = story_001_step(X, T, W1, W2)
        if told == "weights before":
            stop = watcher.check_step({"W1": W1, "W2": W2}, loss)
        else:  # the learner's sums are minus the gradient; the watcher needs no sign for a size
            grads = {"dW1": w1, "dW2": w2}
            stop = watcher.check_step({"W1": W1, "W2": W2}, loss, grads, learning_rate=1.0)
        if stop:
            break
    assert steps == 1 and stop.code == "exploding-gradient" and stop.subject == "W2"
    by_hand = np.sqrt(np.mean((W2 - W2_before) ** 2) / np.mean(W2_before**2))
    assert stop.evidence["update_ratio"] == pytest.approx(by_hand, rel=1e-6)
    assert stop.evidence["update_ratio"] > 100
    assert stop.evidence["weight_rms"] == pytest.approx(np.sqrt(1 / 3), rel=0.05)  # U(-1, 1)
    assert "times its size before the step" in stop.message


# -- a flipped update sign -------------------------------------------------------------------


def test_a_flipped_update_sign_is_named_not_the_learning_rate(data):
    """The book's loop with `params[key] += lr * grad[key]` and a correct gradient."""
    x, t = data
    network = LearnerNet(784, 50, 10, np.sqrt(1 / 784))
    watcher = TrainingWatcher()
    rng = np.random.default_rng(0)
    stop = None
    for _ in range(200):
        batch = rng.choice(len(x), 100)
        grad = network.gradient(x[batch], t[batch])
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] += 0.1 * grad[key]
        loss = network.loss(x[batch], t[batch])
        if stop := watcher.check_step(network, loss, grad, learning_rate=0.1):
            break
    assert stop is not None and stop.code == "update-sign-flipped", watcher.findings
    assert stop.evidence["cosine"] == pytest.approx(1.0)
    assert stop.evidence["loss_now"] > stop.evidence["loss_start"]
    assert "learning-rate-too-high" not in {f.code for f in watcher.findings}
    assert "No learning rate helps" in stop.message


def test_adding_an_error_written_target_minus_output_is_not_a_flipped_sign(data):
    """`W += lr * dW` is right when dW is minus the gradient (the error as t - y): the update
    runs along what the learner passes, but the loss falls, so nothing is said."""
    x, t = data
    network = LearnerNet(784, 50, 10, np.sqrt(1 / 784))
    watcher = TrainingWatcher(every=20)
    rng = np.random.default_rng(0)
    losses = []
    for _ in range(200):
        batch = rng.choice(len(x), 100)
        delta = {key: -g for key, g in network.gradient(x[batch], t[batch]).items()}
        for key in delta:
            network.params[key] += 0.5 * delta[key]
        losses.append(network.loss(x[batch], t[batch]))
        assert watcher.check_step(network, losses[-1], delta, learning_rate=0.5) is None
    assert watcher.findings == [] and np.mean(losses[-20:]) < 0.7 * losses[0]


# -- NaN -------------------------------------------------------------------------------------


def test_nan_is_traced_to_the_array_and_the_step_where_it_appeared(data):
    """A function-style loop that scales each image by its own maximum: the empty image in the
    third batch becomes 0/0 = NaN, its gradient NaN, then every weight."""
    x, t = data
    x = x.astype(np.float64).copy()
    x[250] = 0.0  # an empty image, in the third batch of 100
    rng = np.random.default_rng(0)
    W1, b1 = rng.standard_normal((784, 30)) * 0.05, np.zeros(30)
    W2, b2 = rng.standard_normal((30, 10)) * 0.2, np.zeros(10)
    T = np.eye(10)[t]
    watcher = TrainingWatcher()
    for i in range(10):
        with np.errstate(invalid="ignore"):  # the learner's own 0/0
            X = x[i * 100 : (i + 1) * 100] / x[i * 100 : (i + 1) * 100].max(axis=1, keepdims=True)
        hidden = sigmoid(X @ W1 + b1)
        dy = (softmax(hidden @ W2 + b2) - T[i * 100 : (i + 1) * 100]) / 100
        dhidden = dy @ W2.T * hidden * (1 - hidden)
        dW2, db2, dW1, db1 = hidden.T @ dy, dy.sum(axis=0), X.T @ dhidden, dhidden.sum(axis=0)
        W1, b1, W2, b2 = W1 - 0.5 * dW1, b1 - 0.5 * db1, W2 - 0.5 * dW2, b2 - 0.5 * db2
        y = softmax(sigmoid(X @ W1 + b1) @ W2 + b2)
        loss = -np.sum(T[i * 100 : (i + 1) * 100] * np.log(y + 1e-7)) / 100
        params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        grads = {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}
        if stop := watcher.check_step(params, loss, grads, learning_rate=0.5):
            break
    assert stop.code == "non-finite" and stop.evidence["step"] == 3
    # backpropagation met the NaN at the output layer first, the update then spread it
    assert stop.evidence["first"] == "grads['db2']"
    assert stop.evidence["count"] == stop.evidence["size"] == 10
    assert "params['W1']" in stop.evidence["where"] and "grads['dW1']" in stop.evidence["where"]
    assert stop.variant == "training-all" and "largest_weight" not in stop.evidence
    assert "every weight is NaN or Inf" in stop.message and "up to 0" not in stop.message
    assert "at step 3" in stop.message and "grads['db2']" in stop.message


def test_a_nan_weight_is_named_with_the_largest_finite_one():
    W1 = np.array([[0.5, -3.0], [np.nan, 1.0]])
    watcher = TrainingWatcher()
    watcher.check_step({"W1": np.ones((2, 2))}, 2.3)
    stop = watcher.check_step({"W1": W1, "b1": np.zeros(2)}, np.nan, {"W1_grad": np.ones((2, 2))})
    assert stop.variant == "training" and stop.evidence["first"] == "params['W1']"
    assert stop.evidence["count"] == 1 and stop.evidence["size"] == 4
    assert stop.evidence["largest_weight"] == 3.0 and stop.evidence["step"] == 2


def test_a_nan_loss_from_finite_weights_blames_the_loss(data):
    x, t = data
    network = TwoLayerNet(784, 20, 10, seed=0)
    watcher = TrainingWatcher()
    grads = network.gradient(x[:100], t[:100])
    stop = watcher.check_step(network, np.inf, grads)
    assert stop.variant == "training-loss" and "first" not in stop.evidence
    largest = max(float(np.abs(p).max()) for p in network.params.values())
    assert stop.evidence["largest_weight"] == pytest.approx(largest)


# -- a learner's own loop, with plain arrays -------------------------------------------------


def relu_step(x, t, W1, b1, W2, b2, lr):
    """One step of a function-style 784-H-10 ReLU network that rebinds its arrays (W = W - ...)
    and computes the loss after the update, as the book's loop does."""
    T = np.eye(10)[t]
    hidden = np.maximum(0, x @ W1 + b1)
    dy = (softmax(hidden @ W2 + b2) - T) / len(x)
    dhidden = (dy @ W2.T) * (hidden > 0)
    grads = {"dW1": x.T @ dhidden, "db1": dhidden.sum(0), "dW2": hidden.T @ dy, "db2": dy.sum(0)}
    W1, b1 = W1 - lr * grads["dW1"], b1 - lr * grads["db1"]
    W2, b2 = W2 - lr * grads["dW2"], b2 - lr * grads["db2"]
    y = softmax(np.maximum(0, x @ W1 + b1) @ W2 + b2)
    loss = -np.sum(T * np.log(y + 1e-7)) / len(x)
    return (W1, b1, W2, b2), loss, grads


@pytest.mark.parametrize("learning_rate", [0.1, 300.0])
def test_a_function_style_loop_needs_two_lines(data, learning_rate):
    x, t = data
    rng = np.random.default_rng(0)
    W1, b1 = rng.standard_normal((784, 50)) * np.sqrt(2 / 784), np.zeros(50)
    W2, b2 = rng.standard_normal((50, 10)) * np.sqrt(1 / 50), np.zeros(10)
    W1_before = W1
    watcher = TrainingWatcher()  # line 1
    steps = 0
    for i in range(100):
        batch = slice(i * 20, i * 20 + 20)
        (W1, b1, W2, b2), loss, grads = relu_step(x[batch], t[batch], W1, b1, W2, b2, learning_rate)
        steps += 1
        params = {"W1": W1, "b1": b1, "W2": W2, "b2": b2}
        if watcher.check_step(params, loss, grads, learning_rate=learning_rate):  # line 2
            break
    if learning_rate == 0.1:
        assert steps == 100 and watcher.stopped_by is None and watcher.findings == []
    else:  # the first step, judged against the weights before it from dW1 and the rate
        stop = watcher.stopped_by
        assert steps == 1 and stop.code == "exploding-gradient" and stop.subject == "W1"
        by_hand = np.sqrt(np.mean((W1 - W1_before) ** 2) / np.mean(W1_before**2))
        assert stop.evidence["update_ratio"] == pytest.approx(by_hand, rel=1e-6)

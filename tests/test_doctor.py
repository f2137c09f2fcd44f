"""The doctor, code by code: each planted bug is found, the same network without it is not.

Real MNIST (the first 100 training images of mnist-10k, float64 in [0, 1]); the networks are the
learner-style classes of tests/gallery.py.
"""

import numpy as np
import pytest

from digitlab import TwoLayerNet
from digitlab.doctor import CODES, ERROR, INFO, WARNING, NotANetworkError, Report, examine
from digitlab.doctor.findings import STAGES
from digitlab.errors import ConfigError
from digitlab.i18n import current_language
from gallery import (
    BiasSummedOverWrongAxis,
    DeepLearnerNet,
    FlippedSignW2,
    LearnerNet,
    LogitsFromPredict,
    MissingOneOverN,
    NaNWeights,
    NegativeBiasRelu,
    RandInit,
    ReluNet,
    Seed001NoLearningRate,
    Seed002BookNumerical,
    Seed003ExplodingToNaN,
    Seed004TanhOutput,
    ShapeBugInPredict,
    SigmoidGradOnPreactivation,
    SoftmaxOverBatch,
    SummedLoss,
    TanhInPlaceOfDerivative,
    TanhNet,
    UpdatesInsideGradient,
    ZeroInit,
)

XAVIER = np.sqrt(1 / 784)
HE = np.sqrt(2 / 784)


@pytest.fixture(scope="module")
def batch(mnist_10k_inputs):
    """x: (100, 784) float64 in [0, 1]; t: (100,) labels; T: (100, 10) one-hot."""
    x = mnist_10k_inputs[0][:100].astype(np.float64)
    t = mnist_10k_inputs[1][:100]
    return x, t, np.eye(10)[t]


def codes(report: Report, severity: str | None = None) -> set[str]:
    return {f.code for f in report if severity is None or f.severity == severity}


def assert_clean(report: Report, code: str) -> None:
    assert code not in report.codes, report.render()


# -- correct networks ------------------------------------------------------------------------

CORRECT = {
    "book sigmoid 0.01": lambda: LearnerNet(784, 100, 10, 0.01),
    "sigmoid Xavier": lambda: LearnerNet(784, 100, 10, XAVIER),
    "book ReLU 0.01": lambda: ReluNet(784, 100, 10, 0.01),
    "ReLU He": lambda: ReluNet(784, 100, 10, HE),
    "tanh 0.01": lambda: TanhNet(784, 100, 10, 0.01),
    "TwoLayerNet ReLU 0.01": lambda: TwoLayerNet(784, 100, 10, seed=0),
    "TwoLayerNet ReLU He": lambda: TwoLayerNet(784, 100, 10, "he", seed=0),
    "TwoLayerNet sigmoid 0.01": lambda: TwoLayerNet(784, 100, 10, activation="sigmoid", seed=0),
    "TwoLayerNet sigmoid float32": lambda: TwoLayerNet(
        784, 100, 10, "xavier", activation="sigmoid", seed=0, dtype="float32"
    ),
}


@pytest.mark.parametrize("make", CORRECT.values(), ids=CORRECT.keys())
@pytest.mark.parametrize("learning_rate", [None, 0.1])
def test_a_correct_network_gets_no_error_and_no_warning(batch, make, learning_rate):
    x, t, T = batch
    network = make()
    labels = t if isinstance(network, TwoLayerNet) else T
    report = examine(network, x, labels, learning_rate=learning_rate)
    assert report.ok, report.render()
    assert not codes(report, WARNING), report.render()
    # the only note allowed: the book's 0.01 is small for ReLU (true, and it still trains)
    assert codes(report, INFO) <= {"init-too-small"}


def test_the_books_init_with_relu_is_a_note_not_a_warning(batch):
    x, _, T = batch
    report = examine(ReluNet(784, 100, 10, 0.01), x, T)
    (note,) = report.by_code("init-too-small")
    assert note.severity == INFO and note.subject == "W1"
    assert note.evidence["scheme"] == "He"
    assert note.evidence["recommended"] == pytest.approx(HE)
    assert not examine(ReluNet(784, 100, 10, HE), x, T).by_code("init-too-small")


def test_a_trained_network_gets_no_error(batch, mnist_10k_inputs):
    from digitlab import SGD, Trainer

    x, t, _ = batch
    network = TwoLayerNet(784, 100, 10, "he", seed=0)
    x_train, t_train = mnist_10k_inputs[0][:2000], mnist_10k_inputs[1][:2000]
    Trainer(network, SGD(0.5), epochs=2, progress=False, log=None).fit(x_train, t_train)
    report = examine(network, x, t, learning_rate=0.5)
    assert report.ok, report.render()


# -- inputs and labels -----------------------------------------------------------------------


def test_raw_pixels_are_an_error_scaled_twice_a_warning(batch):
    x, _, T = batch
    raw = examine(LearnerNet(784, 100, 10), x * 255, T)
    (finding,) = raw.by_code("input-not-normalized")
    assert finding.severity == ERROR and finding.evidence["max"] == 255
    assert (finding.subject, finding.evidence["dtype"]) == ("x", "float64")
    tiny = examine(LearnerNet(784, 100, 10), x / 255, T)
    (finding,) = tiny.by_code("input-not-normalized")
    assert (finding.severity, finding.subject, finding.variant) == (WARNING, "x", "tiny")
    assert_clean(examine(LearnerNet(784, 100, 10), x, T), "input-not-normalized")
    standardized = (x - x.mean()) / x.std()  # also a correct normalization
    assert_clean(examine(LearnerNet(784, 100, 10), standardized, T), "input-not-normalized")


@pytest.mark.parametrize(
    ("make_labels", "variant"),
    [
        (lambda t, T: t + 1, "range"),  # labels 1..10
        (lambda t, T: t.reshape(-1, 1), "column"),
        (lambda t, T: 2 * T - 1, "one-hot"),  # -1/1 targets
        (lambda t, T: T[:50], "rows"),
        (lambda t, T: np.eye(11)[t], "columns"),
        (lambda t, T: t + 0.5, "fractional"),
        (lambda t, T: np.where(np.arange(len(t)) == 3, np.nan, t), "non-finite"),
    ],
)
def test_invalid_labels_are_named(batch, make_labels, variant):
    x, t, T = batch
    report = examine(LearnerNet(784, 100, 10), x, make_labels(t, T))
    (finding,) = report.by_code("labels-invalid")
    assert finding.severity == ERROR and finding.variant == variant


def test_valid_labels_pass_indices_one_hot_and_soft(batch):
    x, t, T = batch
    soft = 0.9 * T + 0.01  # label smoothing: rows are distributions
    for labels in (t, T, soft):
        assert_clean(examine(LearnerNet(784, 100, 10), x, labels), "labels-invalid")


# -- initial weights -------------------------------------------------------------------------


def test_too_large_init_is_named_with_the_recommended_std(batch):
    x, _, T = batch
    report = examine(LearnerNet(784, 100, 10, 1.0), x, T)
    w1 = next(f for f in report.by_code("init-too-large") if f.subject == "W1")
    assert w1.severity == ERROR
    assert w1.evidence["recommended"] == pytest.approx(XAVIER)
    assert w1.evidence["scheme"] == "Xavier" and w1.evidence["ratio"] == pytest.approx(28, rel=0.01)
    assert "0.0357" in w1.fix
    assert_clean(examine(LearnerNet(784, 100, 10, XAVIER), x, T), "init-too-large")


def test_small_weights_are_named_small_not_their_gradients_exploding(batch):
    """Gradients are judged against the weights' size, but never a size below the
    recommended scale: 0.001 is the init's problem, not an exploding gradient's."""
    x, _, T = batch
    report = examine(LearnerNet(784, 100, 10, 0.001), x, T, learning_rate=0.1)
    assert report.codes == {"init-too-small"}, report.render()


def test_zero_init_is_an_error_a_deep_small_init_a_warning(batch):
    x, _, T = batch
    zero = examine(ZeroInit(784, 100, 10), x, T)
    assert zero.severity_of("init-too-small") == ERROR
    assert zero.by_code("init-too-small")[0].evidence["fan_in"] == 784
    deep = examine(DeepLearnerNet(weight_init_std=0.01), x, T)
    (finding,) = deep.by_code("init-too-small")
    assert finding.severity == WARNING and finding.variant == "deep"
    assert finding.evidence["signal"] < 0.01
    he = DeepLearnerNet(weight_init_std=HE)
    assert_clean(examine(he, x, T), "init-too-small")


def test_all_positive_init_is_not_centered(batch):
    x, _, T = batch
    report = examine(RandInit(784, 100, 10), x, T)
    severities = {f.subject: f.severity for f in report.by_code("init-not-centered")}
    assert severities == {"W1": ERROR, "W2": WARNING}
    assert report.by_code("init-not-centered")[0].evidence["positive"] == 1.0
    assert_clean(examine(LearnerNet(784, 100, 10), x, T), "init-not-centered")


# -- activations -----------------------------------------------------------------------------


def test_saturated_sigmoids(batch):
    x, _, T = batch
    report = examine(LearnerNet(784, 100, 10, 1.0), x, T)
    (finding,) = report.by_code("activations-saturated")
    assert finding.severity == ERROR and finding.subject == "W1"
    assert finding.evidence["fraction"] > 0.5
    assert_clean(examine(LearnerNet(784, 100, 10, XAVIER), x, T), "activations-saturated")


def test_dead_relu_units_and_their_vanishing_gradient(batch):
    x, _, T = batch
    report = examine(NegativeBiasRelu(784, 100, 10), x, T)
    (finding,) = report.by_code("dead-units")
    assert finding.severity == ERROR and finding.evidence["dead"] == 100
    assert {f.subject for f in report.by_code("vanishing-gradient")} == {"W1", "W2"}
    healthy = examine(ReluNet(784, 100, 10, HE), x, T)
    assert_clean(healthy, "dead-units")
    assert_clean(healthy, "vanishing-gradient")


# -- outputs and loss ------------------------------------------------------------------------


def test_tanh_and_sigmoid_outputs_are_not_probabilities(batch):
    x, t, T = batch
    tanh = examine(Seed004TanhOutput(), x, t)
    assert tanh.severity_of("output-not-probability") == ERROR
    sigmoid = examine(Seed001NoLearningRate(), x, T)
    assert sigmoid.severity_of("output-not-probability") == WARNING
    assert_clean(examine(LearnerNet(784, 100, 10), x, T), "output-not-probability")


def test_logits_from_predict_are_only_a_note(batch):
    x, _, T = batch
    report = examine(LogitsFromPredict(784, 100, 10, HE), x, T)
    assert report.severity_of("output-not-probability") == INFO
    assert report.ok


def test_softmax_across_the_batch(batch):
    x, t, T = batch
    report = examine(SoftmaxOverBatch(784, 100, 10), x, T)
    (finding,) = report.by_code("softmax-across-batch")
    assert finding.severity == ERROR and finding.evidence["batch_sum"] == pytest.approx(1)
    columns = examine(Seed003ExplodingToNaN(), x.astype(np.float32), t.reshape(-1, 1))
    assert columns.by_code("softmax-across-batch")[0].variant == "columns"
    assert_clean(examine(LearnerNet(784, 100, 10), x, T), "softmax-across-batch")


def test_a_summed_loss_is_not_averaged(batch):
    x, _, T = batch
    report = examine(SummedLoss(784, 100, 10), x, T)
    (finding,) = report.by_code("loss-not-averaged")
    assert finding.evidence["ratio"] == pytest.approx(2.0)
    assert_clean(report, "gradient-mismatch")  # the summed gradient is that loss's gradient
    assert_clean(examine(LearnerNet(784, 100, 10), x, T), "loss-not-averaged")


# -- gradients -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network_class", "wrong"),
    [
        (SigmoidGradOnPreactivation, {"W1", "b1"}),
        (TanhInPlaceOfDerivative, {"W1", "b1"}),
        (MissingOneOverN, {"W1", "b1", "W2", "b2"}),
        (BiasSummedOverWrongAxis, {"b1", "b2"}),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_gradient_mismatch_names_the_tensors(batch, network_class, wrong):
    x, _, T = batch
    report = examine(network_class(784, 100, 10, 0.1), x, T)
    found = {f.subject for f in report.by_code("gradient-mismatch") if f.severity == ERROR}
    assert found == wrong, report.render()
    assert_clean(report, "gradient-sign-flipped")


def test_a_gradient_summed_over_the_batch_is_called_so(batch):
    x, _, T = batch
    report = examine(MissingOneOverN(784, 100, 10, 0.1), x, T)
    finding = report.by_code("gradient-mismatch")[0]
    assert finding.variant == "batch" and finding.evidence["factor"] == pytest.approx(100, rel=0.01)


def test_a_flipped_sign_is_its_own_finding(batch):
    x, _, T = batch
    report = examine(FlippedSignW2(784, 100, 10, 0.1), x, T)
    (finding,) = report.by_code("gradient-sign-flipped")
    assert finding.subject == "W2" and finding.evidence["cosine"] < -0.99
    assert_clean(report, "gradient-mismatch")


@pytest.mark.parametrize("network_class", [LearnerNet, ReluNet, TanhNet])
def test_correct_backprop_passes(batch, network_class):
    x, _, T = batch
    report = examine(network_class(784, 100, 10, 0.1), x, T)
    assert_clean(report, "gradient-mismatch")
    assert_clean(report, "gradient-sign-flipped")


#: how learners name the gradient of W1
SPELLINGS = {
    "dW1": "d{}".format,
    "dw1": lambda name: "d" + name.lower(),
    "grad_W1": "grad_{}".format,
    "W1_grad": "{}_grad".format,
}


def renamed_gradient(network_class, spelling):
    """network_class whose gradient() returns its keys in a learner's spelling."""

    class Renamed(network_class):
        def gradient(self, x, t):
            return {spelling(name): g for name, g in super().gradient(x, t).items()}

    return Renamed


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_gradients_keyed_dW1_meet_W1(batch, spelling):
    x, _, T = batch
    report = examine(renamed_gradient(LearnerNet, spelling)(784, 100, 10, 0.1), x, T)
    assert_clean(report, "gradient-mismatch")
    assert_clean(report, "gradient-sign-flipped")
    wrong = renamed_gradient(SigmoidGradOnPreactivation, spelling)(784, 100, 10, 0.1)
    report = examine(wrong, x, T)
    found = {f.subject for f in report.by_code("gradient-mismatch") if f.severity == ERROR}
    assert found == {"W1", "b1"}, report.render()


def test_exploding_gradient_is_judged_relative_to_the_weights(batch):
    x, _, T = batch
    report = examine(MissingOneOverN(784, 100, 10, 0.1), x, T, learning_rate=0.1)
    (finding,) = report.by_code("exploding-gradient")
    assert finding.subject == "W2" and finding.evidence["update_ratio"] > 1
    # the same raw gradient size on weights 100x larger is fine: it is the ratio that counts
    assert_clean(
        examine(LearnerNet(784, 100, 10, 0.1), x, T, learning_rate=0.1), "exploding-gradient"
    )


def test_vanishing_gradients_are_estimated_for_a_network_without_gradient(batch):
    """Dead ReLUs in a network with no gradient() (as one written with only the book's
    numerical_gradient): the doctor estimates the gradients by central differences at sampled
    weights, and finds them vanishing, as backpropagation's are."""

    class WithoutGradient(NegativeBiasRelu):
        gradient = None

    x, _, T = batch
    report = examine(WithoutGradient(784, 100, 10), x, T)
    vanishing = report.by_code("vanishing-gradient")
    assert [(f.subject, f.variant) for f in vanishing] == [("W1", "estimated"), ("W2", "estimated")]
    assert all(f.evidence["gradient_rms"] == 0 for f in vanishing)


def test_saturation_is_measured_by_each_activations_own_slope():
    """At 3, a sigmoid keeps 18% of its largest slope (not flat); tanh keeps 1% (flat)."""
    from digitlab.doctor.forward import flat_fraction

    values = np.array([0.0, 3.0, 12.0])
    assert flat_fraction("sigmoid", values) == pytest.approx(1 / 3)
    assert flat_fraction("tanh", values) == pytest.approx(2 / 3)


def test_numerical_gradient_only_is_a_note_not_an_error(batch):
    x, _, T = batch
    report = examine(Seed002BookNumerical(), x, T)
    assert report.ok and report.codes == {"numerical-gradient-only"}
    assert report.by_code("numerical-gradient-only")[0].evidence["parameters"] == 79510


# -- learning rate ---------------------------------------------------------------------------


def test_learning_rate_too_high_suggests_a_lower_one(batch):
    x, _, T = batch
    report = examine(LearnerNet(784, 100, 10), x, T, learning_rate=100)
    (finding,) = report.by_code("learning-rate-too-high")
    assert finding.severity == ERROR
    assert finding.evidence["loss_highest"] > 1.5 * finding.evidence["loss_before"]
    assert finding.evidence["suggested"] <= 10


def test_learning_rate_too_low(batch):
    x, _, T = batch
    report = examine(LearnerNet(784, 100, 10), x, T, learning_rate=1e-5)
    (finding,) = report.by_code("learning-rate-too-low")
    assert finding.severity == WARNING and finding.evidence["larger"] == pytest.approx(1e-3)
    assert finding.subject == "learning_rate"  # the setting to change, by its name
    good = examine(LearnerNet(784, 100, 10), x, T, learning_rate=0.1)
    assert not good.codes & {"learning-rate-too-high", "learning-rate-too-low"}


# -- non-finite values, and the learner's code failing ---------------------------------------


def test_nan_in_params_and_inputs_is_found_where_it_starts(batch):
    x, _, T = batch
    report = examine(NaNWeights(784, 100, 10), x, T)
    (finding,) = report.by_code("non-finite")
    assert finding.subject == "W1" and finding.evidence["first_index"] == "[3, 5]"
    dirty = x.copy()
    dirty[7, 300] = np.nan
    report = examine(LearnerNet(784, 100, 10), dirty, T)
    assert report.by_code("non-finite")[0].subject == "x"
    assert report.by_code("non-finite")[0].evidence["first_sample"] == 7
    assert_clean(examine(LearnerNet(784, 100, 10), x, T), "non-finite")


def test_a_loss_that_returns_nan_is_a_finding_not_a_crash(batch):
    x, _, T = batch

    class NaNLoss(LearnerNet):
        def loss(self, x, t):
            return np.log(-1.0)

    report = examine(NaNLoss(784, 100, 10), x, T)
    assert report.by_code("non-finite")[0].subject == "loss()"


def test_code_that_raises_becomes_a_finding(batch):
    x, _, T = batch
    report = examine(ShapeBugInPredict(784, 100, 10), x, T)
    finding = report.by_code("network-raised")[0]
    assert finding.subject == "predict()" and "ValueError" in finding.evidence["error"]
    assert finding.evidence["where"].startswith("gallery.py:")
    assert_clean(examine(LearnerNet(784, 100, 10), x, T), "network-raised")


def test_an_object_without_params_or_loss_is_refused():
    with pytest.raises(NotANetworkError, match="no `params`"):
        examine(object(), np.zeros((2, 3)), np.zeros(2, dtype=int))

    class NoLoss:
        def __init__(self):
            self.params = {"W1": np.zeros((3, 2))}

    with pytest.raises(NotANetworkError, match="no `loss"):
        examine(NoLoss(), np.zeros((2, 3)), np.zeros(2, dtype=int))


# -- the learner's parameters are never changed ----------------------------------------------

ALL = [
    lambda: LearnerNet(784, 100, 10),
    lambda: UpdatesInsideGradient(784, 100, 10),
    lambda: FlippedSignW2(784, 100, 10, 0.1),
    lambda: NaNWeights(784, 100, 10),
    lambda: Seed001NoLearningRate(),
    lambda: Seed003ExplodingToNaN(),
    lambda: Seed004TanhOutput(),
    lambda: TwoLayerNet(784, 100, 10, seed=0),
]


@pytest.mark.parametrize("make", ALL)
@pytest.mark.parametrize("learning_rate", [None, 1.0])
def test_params_are_bit_identical_afterwards(batch, make, learning_rate):
    x, t, T = batch
    network = make()
    labels = t if isinstance(network, (TwoLayerNet, Seed004TanhOutput)) else T
    before = {k: (v, v.copy()) for k, v in network.params.items()}
    examine(network, x, labels, learning_rate=learning_rate)
    assert network.params.keys() == before.keys()
    for name, (array, copy) in before.items():
        assert network.params[name] is array
        assert array.tobytes() == copy.tobytes() and array.dtype == copy.dtype


def test_an_update_inside_gradient_is_reported_and_undone(batch):
    x, _, T = batch
    network = UpdatesInsideGradient(784, 100, 10)
    report = examine(network, x, T)
    assert report.by_code("network-changed-params")[0].severity == WARNING


def test_a_network_that_cannot_be_copied_is_examined_in_place_and_restored(batch):
    import threading

    x, _, T = batch
    network = UpdatesInsideGradient(784, 100, 10)
    network.lock = threading.Lock()  # deepcopy refuses locks
    before = {k: v.copy() for k, v in network.params.items()}
    report = examine(network, x, T, learning_rate=0.1)
    assert "network-changed-params" in report.codes
    assert all(network.params[k].tobytes() == before[k].tobytes() for k in before)


class RebindsInsidePredict(UpdatesInsideGradient):
    """predict() rebinds a weight to a new array, scales another in place and adds a key: every
    way a learner's code can change its params dict while it is examined."""

    def predict(self, x):
        self.params["W1"] = self.params["W1"] * 0.5
        self.params["b2"] *= 2.0
        self.params["cache"] = np.zeros(3)
        return super().predict(x)


def test_every_change_an_uncopyable_network_makes_to_its_params_is_undone(batch):
    """Examined in place (a lock cannot be deep-copied), the network gets back its very arrays
    (the same objects, not copies), their bytes, and no key it added."""
    import threading

    x, _, T = batch
    network = RebindsInsidePredict(784, 100, 10)
    network.params["b2"] += 0.01  # not zero, so that doubling it changes its bytes
    network.lock = threading.Lock()
    before = {k: (v, v.copy()) for k, v in network.params.items()}
    report = examine(network, x, T, learning_rate=0.1)
    assert set(network.params) == set(before)
    for name, (array, copy) in before.items():
        assert network.params[name] is array, name
        assert array.tobytes() == copy.tobytes(), name
    changed = {n for f in report.by_code("network-changed-params") for n in f.subject.split(", ")}
    assert {"W1", "b2"} <= changed


class LossPerSample(UpdatesInsideGradient):
    """loss() returns the per-sample cross-entropies, a vector, instead of their mean."""

    def loss(self, x, t):
        y = self.predict(x)
        return -np.log(np.sum(y * t, axis=1) + 1e-7)


def test_a_loss_that_is_not_a_number_is_named_with_its_shape(batch):
    x, _, T = batch
    report = examine(LossPerSample(784, 100, 10), x, T)
    finding = report.by_code("non-finite")[0]
    assert finding.severity == ERROR and finding.subject == "loss()"
    assert "100" in finding.message and "float64" in finding.message


# -- the report ------------------------------------------------------------------------------


def test_report_orders_root_causes_first_and_lists_codes(batch):
    x, _, T = batch
    report = examine(Seed001NoLearningRate(), x / 256, T.astype(int), learning_rate=1.0)
    # the order to fix them in: stage by stage (data, arithmetic, init, consequences), the more
    # severe first within a stage
    keys = [(STAGES[f.code], [ERROR, WARNING, INFO].index(f.severity)) for f in report]
    assert keys == sorted(keys)
    assert report.codes == {f.code for f in report} and report.codes <= CODES
    # a consequence names what it follows from, and that finding comes before it
    codes = [f.code for f in report]
    for i, finding in enumerate(report):
        if finding.cause:
            assert finding.cause.split(" — ")[0] in codes[:i]
    assert any(f.cause for f in report)
    text = report.render()
    assert "evidence: " in text and "fix: " in text
    assert text.splitlines()[-1].startswith("doctor: Seed001NoLearningRate, 100 samples: ")


def test_lang_chooses_the_report_language_without_changing_the_global_one(batch):
    x, _, T = batch
    before = current_language()
    report = examine(LearnerNet(784, 100, 10), x * 255, T, lang="zh")
    assert current_language() == before
    finding = report.by_code("input-not-normalized")[0]
    english = report.in_language("en")
    english_finding = english.by_code("input-not-normalized")[0]
    # the fix itself in Chinese (not merely a text that shares "255" with the English one)
    assert finding.fix != english_finding.fix
    assert any("\u4e00" <= ch <= "\u9fff" for ch in finding.fix)
    assert "原始像素" in finding.message
    assert "[错误]" in report.render()
    assert english_finding.message.startswith("The inputs go up to 255")
    with pytest.raises(ConfigError, match="lang='fr' is not one of en, zh"):
        examine(LearnerNet(784, 100, 10), x, T, lang="fr")


def test_findings_as_json_for_the_run_report(batch, tmp_path):
    import json

    from digitlab.doctor import save_findings

    x, _, T = batch
    report = examine(LearnerNet(784, 100, 10), x * 255, T, lang="zh")
    save_findings(report, tmp_path / "findings.json")
    data = json.loads((tmp_path / "findings.json").read_text(encoding="utf-8"))
    assert data == report.to_dicts()
    assert {"code", "severity", "message", "fix", "subject", "evidence"} <= data[0].keys()
    assert data[0]["code"] == "input-not-normalized" and "原始像素" in data[0]["message"]


def test_a_findings_numbers_are_plain_python_numbers():
    """NumPy's integers stay integers (255, not 255.0; 12,000 written with its comma), so that
    the evidence reads and serializes as the learner's numbers."""
    from digitlab.doctor.findings import make_finding

    finding = make_finding(
        "input-not-normalized",
        ERROR,
        "x",
        "raw",
        max=np.uint8(255),
        samples=np.int64(12_000),
        flagged=np.bool_(True),
        mean=np.float32(0.5),
    )
    assert finding.evidence == {"max": 255, "samples": 12_000, "flagged": 1, "mean": 0.5}
    assert [type(v) for v in finding.evidence.values()] == [int, int, int, float]

"""The gallery of learners' networks: every planted bug, and every bug of the five seed stories,
is flagged with the codes that name it; the correct ones get no error.

Each case feeds the network the data as its author did (raw pixels, pixels scaled twice, labels
as a column...), on real MNIST images.
"""

import numpy as np
import pytest

from digitlab.doctor import ERROR, examine
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
    Seed000RawPixels,
    Seed001NoLearningRate,
    Seed002BookNumerical,
    Seed003ExplodingToNaN,
    Seed004TanhOutput,
    ShapeBugInPredict,
    SigmoidGradOnPreactivation,
    SoftmaxOverBatch,
    SummedLoss,
    TanhInPlaceOfDerivative,
    UpdatesInsideGradient,
    ZeroInit,
)


@pytest.fixture(scope="module")
def batch(mnist_10k_inputs):
    x = mnist_10k_inputs[0][:100].astype(np.float64)
    t = mnist_10k_inputs[1][:100]
    return x, t, np.eye(10)[t]


def one_hot(x, t, T):
    return x, T


# name: (network, how its author fed it the batch, learning rate, expected codes)
CASES = {
    # 梯度一直为零: raw 0-255 pixels saturate every sigmoid; the book's 1-D softmax normalizes
    # over the whole batch; the cross-entropy is summed; the gradient is numerical
    "seed 000": (
        Seed000RawPixels,
        lambda x, t, T: (x * 255, T),
        0.1,
        {
            "input-not-normalized",
            "activations-saturated",
            "softmax-across-batch",
            "loss-not-averaged",
            "numerical-gradient-only",
        },
    ),
    # 输出几乎全为零: U(-1, 1) weights on 784 inputs, the update added with no learning rate
    # (the negative gradient, so lr 1), summed over the batch, sigmoid outputs, x / 256 of data
    # already in [0, 1]
    "seed 001": (
        Seed001NoLearningRate,
        lambda x, t, T: (x / 256, T.astype(int)),
        1.0,
        {
            "input-not-normalized",
            "init-too-large",
            "output-not-probability",
            "loss-not-averaged",
            "gradient-sign-flipped",
            "exploding-gradient",
        },
    ),
    # the book's numerical-gradient training: correct, slow
    "seed 002": (Seed002BookNumerical, one_hot, 0.1, {"numerical-gradient-only"}),
    # 权重爆炸到 nan: np.random.rand weights, sigmoid saturated, a column-wise softmax, labels
    # as a column, derivatives at the pre-activations, sums over the batch
    "seed 003": (
        Seed003ExplodingToNaN,
        lambda x, t, T: (x.astype(np.float32), t.reshape(-1, 1)),
        0.001,
        {
            "labels-invalid",
            "init-too-large",
            "init-not-centered",
            "activations-saturated",
            "softmax-across-batch",
            "loss-not-averaged",
            "gradient-mismatch",
            "exploding-gradient",
        },
    ),
    # 模型不训练: rand weights, tanh output against one-hot targets, tanh in place of its
    # derivative, a per-sample loop summed, unscaled 0-16 inputs
    "seed 004": (
        Seed004TanhOutput,
        lambda x, t, T: (x * 16, t),
        0.1,
        {
            "input-not-normalized",
            "init-too-large",
            "init-not-centered",
            "activations-saturated",
            "output-not-probability",
            "loss-not-averaged",
            "gradient-mismatch",
            "exploding-gradient",
        },
    ),
    "softmax over the whole batch": (
        lambda: SoftmaxOverBatch(784, 100, 10),
        one_hot,
        None,
        {"softmax-across-batch"},
    ),
    "flipped update sign": (
        lambda: FlippedSignW2(784, 100, 10, 0.1),
        one_hot,
        None,
        {"gradient-sign-flipped"},
    ),
    "sigmoid derivative at the pre-activation": (
        lambda: SigmoidGradOnPreactivation(784, 100, 10, 0.1),
        one_hot,
        None,
        {"gradient-mismatch"},
    ),
    "tanh in place of its derivative": (
        lambda: TanhInPlaceOfDerivative(784, 100, 10, 0.1),
        one_hot,
        None,
        {"gradient-mismatch"},
    ),
    "gradient summed, loss averaged": (
        lambda: MissingOneOverN(784, 100, 10, 0.1),
        one_hot,
        0.1,
        {"gradient-mismatch", "exploding-gradient"},
    ),
    "bias summed over the wrong axis": (
        lambda: BiasSummedOverWrongAxis(784, 100, 10, 0.1),
        one_hot,
        None,
        {"gradient-mismatch"},
    ),
    "np.random.rand init": (lambda: RandInit(784, 100, 10), one_hot, None, {"init-not-centered"}),
    "std 1 init": (
        lambda: LearnerNet(784, 100, 10, 1.0),
        one_hot,
        None,
        {"init-too-large", "activations-saturated"},
    ),
    "zero init": (lambda: ZeroInit(784, 100, 10), one_hot, None, {"init-too-small"}),
    "0.01 init, four layers": (lambda: DeepLearnerNet(), one_hot, 0.1, {"init-too-small"}),
    "dead ReLU units": (
        lambda: NegativeBiasRelu(784, 100, 10),
        one_hot,
        None,
        {"dead-units", "vanishing-gradient"},
    ),
    "summed loss": (lambda: SummedLoss(784, 100, 10), one_hot, None, {"loss-not-averaged"}),
    "NaN weights": (lambda: NaNWeights(784, 100, 10), one_hot, None, {"non-finite"}),
    "shape bug": (lambda: ShapeBugInPredict(784, 100, 10), one_hot, None, {"network-raised"}),
    "update inside gradient()": (
        lambda: UpdatesInsideGradient(784, 100, 10),
        one_hot,
        None,
        {"network-changed-params"},
    ),
    "learning rate 100": (
        lambda: LearnerNet(784, 100, 10),
        one_hot,
        100,
        {"learning-rate-too-high"},
    ),
    "learning rate 1e-5": (
        lambda: LearnerNet(784, 100, 10),
        one_hot,
        1e-5,
        {"learning-rate-too-low"},
    ),
}

#: gallery networks whose planted bug is a warning or a note, not an error
NO_ERROR_EXPECTED = {
    "seed 002",
    "0.01 init, four layers",
    "update inside gradient()",
    "learning rate 1e-5",
}


@pytest.mark.parametrize("name", CASES)
def test_each_planted_bug_is_flagged(batch, name):
    make, feed, learning_rate, expected = CASES[name]
    x, t = feed(*batch)
    report = examine(make(), x, t, learning_rate=learning_rate)
    assert expected <= report.codes, report.render()
    if name in NO_ERROR_EXPECTED:
        assert report.ok, report.render()
    else:
        assert report.errors


def test_every_code_is_planted_somewhere():
    from conv_gallery import CODES as CONV_CODES
    from digitlab.doctor import CODES

    planted = set().union(*(case[3] for case in CASES.values()))
    # loss-stalled is the watcher's (tests/test_doctor_watch.py); update-sign-flipped is about an
    # update a program applies (tests/program_gallery.py, tests/test_doctor_program.py); the
    # conv nets' codes are planted in tests/conv_gallery.py (tests/test_doctor_conv.py), and
    # network-not-recovered is about a whole program (tests/test_doctor_conv.py)
    program_only = {"loss-stalled", "update-sign-flipped", "network-not-recovered"}
    assert CODES - planted == program_only | CONV_CODES


@pytest.mark.parametrize(
    "make",
    [
        lambda: LearnerNet(784, 100, 10, 0.01),
        lambda: LearnerNet(784, 100, 10, np.sqrt(1 / 784)),
        lambda: ReluNet(784, 100, 10, 0.01),
        lambda: ReluNet(784, 100, 10, np.sqrt(2 / 784)),
        lambda: LogitsFromPredict(784, 100, 10, np.sqrt(2 / 784)),
        lambda: DeepLearnerNet(weight_init_std=np.sqrt(2 / 100)),
    ],
)
def test_correct_gallery_networks_get_no_error(batch, make):
    x, _, T = batch
    report = examine(make(), x, T, learning_rate=0.1)
    assert not [f for f in report if f.severity == ERROR], report.render()

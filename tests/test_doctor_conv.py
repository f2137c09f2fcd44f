"""The doctor on conv nets: each of chapter 7's bugs found in the layer that has it, and named;
a correct conv net (the learner's or digitlab's) gets no finding about its layers."""

import numpy as np
import pytest

from conv_gallery import CODES, LearnerConvNet
from digitlab import ConvNet, SimpleConvNet
from digitlab.doctor import examine
from digitlab.doctor.conv import SAMPLES
from digitlab.nn import Convolution


@pytest.fixture(scope="module")
def images(mnist_10k_inputs):
    x, t = mnist_10k_inputs[0][:20].astype(np.float64), mnist_10k_inputs[1][:20]
    return x.reshape(-1, 1, 28, 28), t


def conv_findings(report):
    return [(f.code, f.variant, f.subject) for f in report.findings if f.code in CODES]


@pytest.mark.parametrize(
    "network", [LearnerConvNet(), LearnerConvNet(pad=2), SimpleConvNet(seed=0)]
)
def test_a_correct_conv_net_gets_no_finding(images, network):
    report = examine(network, *images, learning_rate=0.1)
    assert not [f for f in report.findings if f.severity != "info"], str(report)


def test_every_kind_of_digitlab_layer_passes_the_layer_checks(images):
    # average pooling, padding, stride 2, BatchNorm and Dropout between the checked layers
    from test_convnet import EVERYTHING

    network = ConvNet((1, 28, 28), EVERYTHING, seed=0)
    x, t = images
    assert not conv_findings(examine(network, x, t % 3))


@pytest.mark.parametrize("network", [LearnerConvNet(), SimpleConvNet(seed=0)])
def test_images_channels_last_are_named_first_with_the_transpose(images, network):
    x, t = images
    report = examine(network, x.transpose(0, 2, 3, 1), t)
    first = report.findings[0]
    assert (first.code, first.variant, first.subject) == ("input-layout", "channels-last", "Conv1")
    assert "x.transpose(0, 3, 1, 2)" in first.fix
    assert "20x28x28x1" in first.message


def test_flattened_images_fed_to_a_learners_conv_net_are_named(images):
    x, t = images
    report = examine(LearnerConvNet(), x.reshape(20, 784), t)
    assert conv_findings(report)[0] == ("input-layout", "flat", "Conv1")
    assert "x.reshape(-1, 1, 28, 28)" in report.findings[0].fix


def test_a_net_that_reshapes_its_own_input_is_not_told_to(images):
    x, t = images
    # digitlab's conv nets take (N, 784) rows as well as images
    assert not conv_findings(examine(SimpleConvNet(seed=0), x.reshape(20, 784), t))


def test_transposed_im2col_is_found_although_the_gradient_check_passes(images):
    report = examine(LearnerConvNet(transposed_patches=True), *images, learning_rate=0.1)
    assert conv_findings(report) == [("conv-wrong", "patch-transposed", "Conv1")]
    assert "gradient-mismatch" not in report.codes  # backward agrees with the wrong forward
    assert "W.reshape(FN, -1)" in report.findings[0].message


def test_transposed_output_pixels_are_found(images):
    report = examine(LearnerConvNet(transposed_pixels=True), *images, learning_rate=0.1)
    assert conv_findings(report) == [("conv-wrong", "pixels-transposed", "Conv1")]
    assert "gradient-mismatch" not in report.codes


def test_a_pooling_backward_that_routes_to_the_wrong_cell_is_named(images):
    report = examine(LearnerConvNet(mirrored_pooling=True), *images, learning_rate=0.1)
    found = [f for f in report.findings if f.code == "pooling-wrong"]
    assert [(f.variant, f.subject) for f in found] == [("backward", "Pool1")]
    # in every one-winner 2x2 window the winner gets nothing and its mirror cell the gradient:
    # 2 of its 4 pixels are wrong
    assert found[0].evidence["share"] == 0.5
    assert report.findings[0].code == "pooling-wrong"  # before the gradient-mismatch it causes
    mismatch = [f for f in report.findings if f.code == "gradient-mismatch"]
    assert all(f.cause == "pooling-wrong — Pool1" for f in mismatch)


def test_a_convolution_that_forgets_its_bias_is_wrong_by_as_much_as_the_bias(images):
    network = LearnerConvNet()
    conv = network.layers["Conv1"]
    with_bias = conv.forward
    conv.forward = lambda x: with_bias(x) - conv.b.reshape(1, -1, 1, 1)
    report = examine(network, *images, learning_rate=0.1)
    found = [f for f in report.findings if f.code == "conv-wrong"]
    assert [(f.variant, f.subject) for f in found] == [("", "Conv1")]  # no named pattern
    right = Convolution(conv.W, conv.b, 1, 0).forward(images[0][:SAMPLES])  # those it looks at
    error = np.abs(conv.b).max() / np.abs(right).max()
    assert found[0].evidence["relative_error"] == pytest.approx(error, rel=1e-9)


def test_a_pooling_backward_that_hands_back_the_pooled_shape_is_named(images):
    network = LearnerConvNet()
    network.layers["Pool1"].backward = lambda dout: dout  # forgets to spread it over the window
    report = examine(network, *images, learning_rate=0.1)
    found = [f for f in report.findings if f.code == "pooling-wrong"]
    assert [(f.variant, f.subject) for f in found] == [("backward-shape", "Pool1")]
    assert found[0].evidence["got"].endswith(", 4, 12, 12)")  # 4 filters, 24x24 pooled 2x2


def test_an_output_size_without_both_paddings_is_named_with_the_formula(images):
    report = examine(LearnerConvNet(pad=2, padding_once=True), *images)
    found = conv_findings(report)
    assert found[0] == ("conv-output-size", "raised", "Conv1")
    finding = report.findings[0]
    assert finding.evidence["expected"] == "28x28"
    assert "(H + 2*pad - FH) // stride + 1" in finding.fix


def test_the_findings_read_in_chinese(images):
    report = examine(LearnerConvNet(mirrored_pooling=True), *images, lang="zh")
    finding = next(f for f in report.findings if f.code == "pooling-wrong")
    assert "Pool1" in finding.message and "梯度" in finding.message


def test_digitlab_doctor_gives_a_conv_net_images_and_names_its_layer(tmp_path, capsys):
    from pathlib import Path

    from digitlab.cli import main

    gallery = Path(__file__).parent / "conv_gallery.py"
    assert main(["doctor", f"{gallery}:LearnerConvNet", "--batch", "20"]) == 0
    out = capsys.readouterr().out
    assert "input-layout" not in out  # the rows loaded became images
    assert "20 samples: 0 error(s), 0 warning(s)" in out
    mine = tmp_path / "mine.py"
    mine.write_text(
        "from conv_gallery import LearnerConvNet\n\n\n"
        "def make():\n    return LearnerConvNet(mirrored_pooling=True)\n"
    )
    assert main(["doctor", f"{mine}:make", "--batch", "20"]) == 1
    assert "[error] pooling-wrong — Pool1" in capsys.readouterr().out


def test_a_whole_conv_program_the_doctor_cannot_follow_is_not_called_healthy(tmp_path):
    import shutil
    from pathlib import Path

    from digitlab.doctor.program import examine_program

    shutil.copy(Path(__file__).parent / "conv_gallery.py", tmp_path)
    program = tmp_path / "train_conv.py"
    program.write_text(
        "import numpy as np\n"
        "from conv_gallery import LearnerConvNet\n"
        "rng = np.random.default_rng(0)\n"
        "x, t = rng.random((40, 1, 28, 28)), rng.integers(0, 10, 40)\n"
        "net = LearnerConvNet()\n"
        "for step in range(3):\n"
        "    grads = net.gradient(x, t)\n"
        "    for key in net.params:\n"
        "        net.params[key] -= 0.1 * grads[key]\n"
    )
    report = examine_program(program, steps=3, seconds=60)
    assert [f.code for f in report.findings] == ["network-not-recovered"]
    assert "digitlab doctor FILE.py:CLASS" in report.findings[0].fix
    assert "No problems found" not in report.render()

"""What digitlab's objects show in Jupyter: _repr_html_ with the findings, the table, the
curves and the images, every text escaped; and the plain-text twins IPython prints."""

import numpy as np
import pytest
from matplotlib.figure import Figure

from digitlab import SGD, SimpleConvNet, Trainer, TwoLayerNet
from digitlab.datasets import load_dataset
from digitlab.doctor import examine
from digitlab.doctor.findings import Finding, Report
from digitlab.gradients.check import check
from digitlab.i18n import current_language, set_language
from digitlab.imaging import predict

PNG = 'src="data:image/png;base64,'


class Printer:
    """IPython's pretty printer, as far as _repr_pretty_ uses it."""

    def __init__(self):
        self.written = ""

    def text(self, text):
        self.written += text


def pretty(obj) -> str:
    printer = Printer()
    obj._repr_pretty_(printer, False)
    return printer.written


def test_a_doctor_report_shows_its_findings_fix_first_and_escaped(mnist_10k_inputs):
    x, t = mnist_10k_inputs[0][:100] * 255, mnist_10k_inputs[1][:100]  # raw pixels: a finding
    report = examine(TwoLayerNet(784, 50, 10, seed=0), x, t)
    page = report._repr_html_()
    first = report.findings[0]
    assert first.code == "input-not-normalized"
    assert f"<code>{first.code}</code>" in page
    # what to do comes before the evidence
    assert page.index(first.fix[:30]) < page.index("evidence")
    assert pretty(report) == report.render()
    evidence = {"dead": 3, "units": 4, "fraction": 0.754321, "samples": 10}
    finding = Finding("dead-units", "warning", "<script>W1</script>", evidence)
    hostile = Report("<b>net</b>", (finding,), 10, 0.0)
    page = hostile._repr_html_()
    assert "<script>" not in page and "&lt;script&gt;W1&lt;/script&gt;" in page
    assert "fraction=0.754," in page and "0.754321" not in page  # as the text report has it
    assert "fraction=0.754," in hostile.render()


def test_a_gradient_check_shows_its_table_and_verdict():
    rng = np.random.default_rng(0)
    result = check(TwoLayerNet(6, 4, 3, seed=0), rng.random((5, 6)), rng.integers(0, 3, 5))
    page = result._repr_html_()
    assert page.count("<tr>") == 1 + 4  # the titles, then W1 b1 W2 b2
    assert "<td>W1</td>" in page and "<td>6x4</td>" in page
    assert "verdict: backpropagation is correct." in page
    assert pretty(result) == result.table()


def test_a_history_shows_its_curves_and_plots_them(mnist_10k_inputs):
    x, t = mnist_10k_inputs[0][:500], mnist_10k_inputs[1][:500]
    history = Trainer(TwoLayerNet(784, 20, 10), SGD(0.5), epochs=2, log=None).fit(x, t)
    figure = history.plot()
    assert isinstance(figure, Figure) and len(figure.axes) == 2
    per_step, mean, epoch_end = figure.axes[0].lines
    assert len(per_step.get_xdata()) == len(mean.get_xdata()) == 10  # 2 epochs x 5 steps
    assert list(epoch_end.get_xdata()) == [5, 5]  # where the first epoch ends
    page = history._repr_html_()
    assert "History(2 epochs, 10 steps" in page and PNG in page


def test_a_diverged_history_still_plots_with_axes_fitted_to_its_numbers():
    """One NaN step: the per-step losses are drawn, the moving average (NaN from there on) is
    not; the loss axis ends just above the 99.5th percentile of the finite losses, and the
    accuracy axis starts 0.05 below the lowest accuracy (validation's here)."""
    from digitlab.train import History

    losses = [2.3] + [1.0] * 198 + [float("nan")]
    history = History(
        loss=losses,
        epoch_loss=[1.5, float("nan")],
        train_acc=[0.80, 0.85],
        test_acc=[0.79, 0.84],
        val_acc=[0.60, 0.70],
        steps_per_epoch=100,
        seconds=[0.1, 0.1],
    )
    loss_axes, accuracy_axes = history.plot().axes
    per_step, epoch_end = loss_axes.lines  # no moving average
    assert per_step.get_label() == "per step" and list(epoch_end.get_xdata()) == [100, 100]
    assert loss_axes.get_ylim() == pytest.approx((0, np.percentile(losses[:-1], 99.5) * 1.05))
    assert [line.get_label() for line in accuracy_axes.lines] == ["train", "test", "validation"]
    assert accuracy_axes.get_ylim() == pytest.approx((0.55, 1.0))


def test_a_network_shows_its_summary_in_english_and_chinese():
    net = SimpleConvNet(hidden_size=64)
    text = net.summary()
    assert "Conv1 (Convolution)  (30, 24, 24)" in text
    assert "Affine1 (Affine)     (64,)" in text and "276,544" in text  # 4320 x 64 + 64
    assert f"{sum(p.size for p in net.params.values()):,} parameters, float64" in text
    page = net._repr_html_()
    assert "<td>Pool1 (Pooling)</td><td>(30, 12, 12)</td><td>0</td>" in page
    assert pretty(net) == text
    before = current_language()
    set_language("zh")
    try:
        assert "<th>输出形状</th>" in net._repr_html_()
    finally:
        set_language(before)


def test_a_dataset_and_a_prediction_show_their_images():
    data = load_dataset("mnist-10k")
    page = data._repr_html_()
    assert "Dataset(&#x27;mnist-10k&#x27;" in page and page.count(PNG) == 1
    image = np.zeros((28, 28))
    image[6:22, 13:15] = 1.0  # a stroke: a one
    prediction = predict(None, image)
    assert prediction.label in pretty(prediction)
    assert PNG in prediction._repr_html_()


def test_a_live_trainer_draws_one_figure_and_redraws_it_each_epoch(mnist_10k_inputs, monkeypatch):
    shown = []

    class Handle:
        def update(self, obj):
            shown.append(("update", obj._repr_html_()))  # as IPython renders it, at the call

    def display(obj, display_id=False):
        assert display_id is True
        shown.append(("display", obj._repr_html_()))
        return Handle()

    import IPython.display

    monkeypatch.setattr(IPython.display, "display", display)
    x, t = mnist_10k_inputs[0][:300], mnist_10k_inputs[1][:300]
    Trainer(TwoLayerNet(784, 20, 10), SGD(0.5), epochs=3, log=None, live=True).fit(x, t)
    assert [kind for kind, _page in shown] == ["display", "update", "update"]
    assert all(PNG in page for _kind, page in shown)
    assert len({page for _kind, page in shown}) == 3  # each epoch's curves, not the first's

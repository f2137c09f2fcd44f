"""The training report of a real short run, and the recorder of activations and gradients."""

import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitlab import MLP, DigitlabError, Trainer
from digitlab.cli import main
from digitlab.report import TrainingRecorder, load_stats, write_report
from digitlab.train.optimizers import SGD
from digitlab.workflows.run import TrainConfig, train_run


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """A real short run on mnist-10k: two epochs of 784-32-10, report included."""
    out = tmp_path_factory.mktemp("run")
    config = TrainConfig(hidden=32, epochs=2, seed=0)
    return train_run(config, out, progress=False, log=None)


class References(HTMLParser):
    """Every URL a page refers to (src, href), and the tags it uses."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.tags: set[str] = set()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)
            if name == "id":
                self.ids.add(value)


def read_page(path: Path) -> tuple[str, References]:
    text = path.read_text(encoding="utf-8")
    parser = References()
    parser.feed(text)
    return text, parser


def test_the_report_of_a_real_run_opens_offline_and_every_figure_decodes(run):
    page = run.out_dir / "report.html"
    text, refs = read_page(page)
    assert text.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in text
    # Offline: no script, no stylesheet or font from anywhere, no absolute URL at all.
    assert not {"script", "link", "iframe"} & refs.tags
    assert "http://" not in text and "https://" not in text and "url(" not in text
    images = [u for u in refs.urls if not u.startswith("#")]
    anchors = [u[1:] for u in refs.urls if u.startswith("#")]
    assert set(anchors) <= refs.ids
    assert {"training", "confusion", "mistakes", "weights", "activations", "gradients"} <= set(
        anchors
    )
    assert len(images) == 6
    for url in images:
        path = (page.parent / url).resolve()
        assert path.is_file() and run.out_dir in path.parents, url
    for png in (run.out_dir / "report").iterdir():
        assert f"report/{png.name}" in images  # no stray figure either
        with Image.open(png) as image:
            image.verify()
            assert image.format == "PNG"
        with Image.open(png) as image:
            assert image.width <= 1200  # fits the 1100 px column at a laptop's width, or near


def test_a_conv_run_shows_its_filters_and_what_they_find_in_a_digit(tmp_path, mnist_2k_folder):
    config = TrainConfig(data=mnist_2k_folder, net="simple-conv", hidden=20, epochs=1, seed=0)
    conv_run = train_run(config, tmp_path / "conv", progress=False, log=None)
    text, refs = read_page(conv_run.out_dir / "report.html")
    assert {"report/filters.png", "report/feature_maps.png"} <= set(refs.urls)
    assert "report/weights.png" not in refs.urls  # no 28x28 tiles of a 4-D W1
    assert "one filter of the first convolution" in text
    for name in ("filters.png", "feature_maps.png"):
        with Image.open(conv_run.out_dir / "report" / name) as image:
            assert image.format == "PNG" and image.width <= 1200


def test_the_report_says_what_the_run_measured(run):
    text, _refs = read_page(run.out_dir / "report.html")
    assert f"{run.history.test_acc[-1]:.2%}" in text
    assert "TwoLayerNet(784→32→10, relu, float32)" in text
    # The per-class table adds up to the test set, and its accuracies to the test accuracy.
    rows = text.split("most often read as")[1].split("</table>")[0].split("<tr>")[1:]
    cells = [[c.split(">", 1)[1] for c in row.split("</td>")[:-1]] for row in rows]
    counts = [int(c[1]) for c in cells]
    correct = sum(int(c[1]) * float(c[2].rstrip("%")) / 100 for c in cells)
    assert sum(counts) == 10_000
    assert correct / 10_000 == pytest.approx(run.history.test_acc[-1], abs=1e-3)
    # The training watcher's findings.json is shown: each code, or that there is none.
    findings = json.loads((run.out_dir / "findings.json").read_text())
    assert all(f["code"] in text for f in findings)
    assert ("found nothing wrong" in text) == (not findings)


def test_recorded_statistics(run):
    stats = load_stats(run.out_dir / "stats.npz")
    with np.load(run.out_dir / "stats.npz", allow_pickle=False) as npz:
        assert set(npz.files) == set(stats)
    assert stats["epochs"].tolist() == [0, 1, 2]
    assert stats["activation_names"].tolist() == ["hidden 1 (ReLU)"]
    assert stats["gradient_names"].tolist() == ["W1", "b1", "W2", "b2"]
    probe = int(stats["probe_size"])
    assert (stats["activation_counts"].sum(axis=2) == probe * 32).all()
    assert (stats["gradient_counts"][0].sum(axis=1) <= 784 * 32).all()
    # A ReLU is saturated exactly where its output is 0: the first histogram bin starts at 0.
    assert stats["activation_edges"][0, :, 0].tolist() == [0.0, 0.0, 0.0]
    assert 0 < stats["activation_saturated"].min() <= stats["activation_saturated"].max() < 1
    # MNIST's border pixels are always 0, so their weights' gradients are exactly 0.
    assert stats["gradient_zero"][0].min() > 0.1


def test_recording_changes_nothing_in_training(mnist_10k_inputs):
    x, t = mnist_10k_inputs[0][:1000], mnist_10k_inputs[1][:1000]

    def train(callbacks):
        network = MLP(784, [16, 16], 10, use_batchnorm=True, dropout=0.2, seed=0)
        Trainer(network, SGD(0.1), epochs=2, progress=False, log=None, callbacks=callbacks).fit(
            x, t
        )
        return network

    plain = train([])
    recorder = TrainingRecorder(x[:200])
    watched = train([recorder])
    for name in plain.params:
        assert np.array_equal(plain.params[name], watched.params[name])
    for name, value in plain.state().items():
        assert np.array_equal(value, watched.state()[name])
    assert recorder.epochs == [0, 1, 2]
    # W, b (3 layers), gamma, beta (2 BatchNorm layers): 10 tensors
    expected = "TrainingRecorder(probe=200, 3 records, 2 activation layers, 10 tensors)"
    assert repr(recorder) == expected


def test_saturation_and_vanishing_gradients_are_measured(mnist_10k_inputs):
    """The textbook failure: sigmoid units with large initial weights sit at 0 or 1, where
    their slope y(1 - y) is almost 0, and the gradient shrinks layer by layer on its way back.
    With Xavier's initial weights the same network is far from saturation."""
    x, t = mnist_10k_inputs[0][:500].astype(np.float64), mnist_10k_inputs[1][:500]

    def first_record(std):
        network = MLP(784, [64] * 5, 10, activation="sigmoid", weight_init_std=std, seed=0)
        recorder = TrainingRecorder(x[:200])
        Trainer(network, SGD(0.1), epochs=1, progress=False, log=None, callbacks=[recorder]).fit(
            x, t
        )
        return recorder.to_arrays()

    saturated = first_record(1.0)
    healthy = first_record("xavier")
    assert saturated["activation_saturated"][:, 0].mean() > 0.5
    assert healthy["activation_saturated"][:, 0].max() < 0.05
    names = saturated["gradient_names"].tolist()
    rms = saturated["gradient_rms"][:, 0]
    assert rms[names.index("W1")] < rms[names.index("W6")] / 30  # vanished on the way back


def test_findings_json_is_shown_escaped(run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(run.out_dir, copy)
    findings = [
        {"code": "D001", "severity": "warning", "message": "loss <script>alert(1)</script> flat"},
        {"code": "D002", "severity": "error", "message": "W1 learns nothing.", "fix": "Use He."},
    ]
    (copy / "findings.json").write_text(json.dumps(findings))
    text, refs = read_page(write_report(copy))
    assert "script" not in refs.tags
    assert "loss &lt;script&gt;alert(1)&lt;/script&gt; flat" in text
    assert 'class="severity severity-error"' in text and "D002" in text
    assert "W1 learns nothing. Fix: Use He." in text
    (copy / "findings.json").write_text('{"not": "a list"}')
    assert "is not a list of findings (code, severity, message)" in write_report(copy).read_text()


def test_a_report_from_what_is_there(run, tmp_path):
    """A run still training (no model yet) or from an older digitlab (no stats.npz): the
    report shows what it can and says what is missing."""
    copy = tmp_path / "run"
    copy.mkdir()
    shutil.copy(run.out_dir / "history.json", copy)
    text, refs = read_page(write_report(copy))
    assert "No model.npz yet" in text and "No stats.npz" in text
    assert [u for u in refs.urls if not u.startswith("#")] == ["report/training.png"]
    with pytest.raises(DigitlabError, match=r"has no history\.json"):
        write_report(tmp_path / "nothing")


def test_digitlab_report_rebuilds_it_from_the_run_folder(run, tmp_path, capsys):
    copy = tmp_path / "run"
    shutil.copytree(run.out_dir, copy)
    shutil.rmtree(copy / "report")
    (copy / "report.html").unlink()
    assert main(["report", str(copy)]) == 0
    assert capsys.readouterr().out.strip() == str(copy / "report.html")
    _text, refs = read_page(copy / "report.html")
    assert len([u for u in refs.urls if not u.startswith("#")]) == 6
    assert main(["report", str(tmp_path / "absent")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "has no history.json" in err

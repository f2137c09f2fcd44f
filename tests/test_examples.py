"""The examples under examples/ run as they say: the scripts, and the tutorial notebooks
executed top to bottom with their key outputs checked."""

import importlib.util
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example(name: str):
    spec = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_fashion_convnet_design_learns_digits(mnist_10k_inputs):
    x_train, t_train, x_test, t_test = mnist_10k_inputs
    example = _example("fashion_convnet")
    images = x_train[:1000].reshape(-1, 1, 28, 28)
    net, history = example.train(  # digits are no mirror images of themselves: mirror off
        images,
        t_train[:1000],
        x_test[:500],
        t_test[:500],
        epochs=2,
        mirror=False,
        log=None,
        progress=False,
    )
    assert list(net.layers.keys())[:3] == ["Conv1", "Relu1", "Pool1"]
    assert net.params["W2"].shape == (64, 32, 3, 3) and net.params["W4"].shape == (128, 10)
    assert history.test_acc[-1] > 0.8  # chance is 0.1; 1,000 images, two epochs
    # as a command: --help says what it takes (the full run takes 20 minutes a seed)
    shown = subprocess.run(
        [sys.executable, EXAMPLES / "fashion_convnet.py", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "--seed" in shown and "--out" in shown
    assert np.isfinite(history.loss).all()


def _run_notebook(name: str):
    """The notebook `name` executed top to bottom in a fresh kernel (offline), and its cells."""
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    book = nbformat.read(EXAMPLES / name, as_version=4)
    nbclient.NotebookClient(
        book, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(EXAMPLES)}}
    ).execute()
    return [cell for cell in book.cells if cell.cell_type == "code"]


def _text(cell) -> str:
    """What a cell printed and showed, as text and HTML."""
    parts = []
    for output in cell.outputs:
        parts.append(output.get("text", ""))
        data = output.get("data", {})
        parts += [data.get("text/plain", ""), data.get("text/html", "")]
    return "\n".join(parts)


def test_notebook_1_the_two_layer_net():
    cells = _run_notebook("01_two_layer_net.ipynb")
    assert "(10000, 784) float32 0.0 1.0" in _text(cells[0])
    assert "<td>Affine1 (Affine)</td><td>(100,)</td><td>78,500</td>" in _text(cells[1])
    differences = re.findall(r"largest difference (\S+)", _text(cells[2]))
    assert len(differences) == 4 and all(float(d) < 1e-6 for d in differences)
    assert "verdict: backpropagation is correct." in _text(cells[3])
    accuracy = float(re.search(r"test accuracy ([\d.]+)%", _text(cells[4])).group(1))
    assert accuracy > 93
    assert 'src="data:image/png;base64,' in _text(cells[4])  # the live curves


def test_notebook_2_the_doctor_names_the_bug_and_its_fix():
    cells = _run_notebook("02_doctor.ipynb")
    first = _text(cells[0])
    assert "<code>input-not-normalized</code>" in first
    assert first.index("input-not-normalized") < first.index("evidence")
    assert "[]" in _text(cells[1])  # no error left once fixed
    assert "输入" in _text(cells[2])


def test_notebook_3_deeper_nets_and_optimizers():
    cells = _run_notebook("03_deeper_nets_and_optimizers.ipynb")
    accuracies = [float(a) for a in re.findall(r": ([\d.]+)%", _text(cells[0]))]
    assert len(accuracies) == 3 and min(accuracies) > 90
    assert float(re.search(r"BatchNorm: ([\d.]+)%", _text(cells[1])).group(1)) > 93


def test_notebook_4_the_conv_net_and_its_way_out():
    cells = _run_notebook("04_conv_net.ipynb")
    assert "<td>Conv1 (Convolution)</td><td>(30, 24, 24)</td>" in _text(cells[0])
    assert "verdict: backpropagation is correct." in _text(cells[1])
    accuracy = float(re.search(r"2,000 images: ([\d.]+)%", _text(cells[2])).group(1))
    assert accuracy > 80  # chance: 10%; measured 86.1%
    assert "image/png" in str(cells[3].outputs)
    difference = float(re.search(r"from digitlab: (\S+)", _text(cells[4])).group(1))
    assert difference < 1e-5

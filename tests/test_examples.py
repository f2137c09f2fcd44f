"""The example scripts under examples/ run as their docstrings say."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import numpy as np

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
    net, history = example.train(
        images, t_train[:1000], x_test[:500], t_test[:500], epochs=2, log=None, progress=False
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

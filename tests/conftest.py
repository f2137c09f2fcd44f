"""Fixtures shared by the test modules."""

import os

# One BLAS thread: the tests run the learners' programs in this process, and two BLAS threads on
# a shared 2-core machine stall whenever another process holds a core (set before numpy loads).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import contextlib
import json
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets in ../shared/data beside the repository root (see its README), found
    from wherever the tests were copied below the root (mutmut runs them from mutants/)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "shared" / "data").is_dir():
            return folder / "shared" / "data"
    pytest.fail("no shared/data beside the repository (see the README, Development)")


@pytest.fixture
def dead_mirror() -> str:
    """The URL of a port on 127.0.0.1 where nothing listens: connections are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="session")
def mnist_10k_inputs():
    """The shipped mnist-10k as network inputs: x (N, 784) float32 in [0, 1], t (N,) int."""
    from digitlab.datasets import load_dataset, to_inputs

    data = load_dataset("mnist-10k")
    return (
        to_inputs(data.x_train),
        data.t_train.astype(np.intp),
        to_inputs(data.x_test),
        data.t_test.astype(np.intp),
    )


@pytest.fixture(scope="session")
def mnist_2k_folder(tmp_path_factory) -> str:
    """A folder of IDX files holding the first 2,000 training and 1,000 test images of
    mnist-10k: for the tests of whole runs (a conv net's report, a run's files), which prove
    what a run writes, not how well 10,000 images train. A str, as `--data` takes it."""
    from digitlab.datasets import load_dataset
    from idx_files import write_idx_folder

    data = load_dataset("mnist-10k")
    folder = tmp_path_factory.mktemp("data") / "mnist-2k"
    write_idx_folder(
        folder, data.x_train[:2000], data.t_train[:2000], data.x_test[:1000], data.t_test[:1000]
    )
    return str(folder)


@pytest.fixture(scope="session")
def web_network(mnist_10k_inputs):
    """A 784-64-10 network trained for 3 epochs on mnist-10k (about 95% on the test set)."""
    from digitlab import SGD, Trainer, TwoLayerNet

    x, t = mnist_10k_inputs[0], mnist_10k_inputs[1]
    net = TwoLayerNet(784, 64, 10, weight_init_std="he", seed=0, dtype="float32")
    Trainer(net, SGD(0.5), epochs=3, progress=False, log=None).fit(x, t)
    net.metadata = {"classes": [str(i) for i in range(10)]}
    return net


@pytest.fixture(scope="session")
def runs_dir(tmp_path_factory):
    """A runs folder with one run still training (config.json and history.json, no model, and
    its lock held, as by a live training process)."""
    from digitlab.workflows import run_lock

    runs = tmp_path_factory.mktemp("runs")
    run = runs / "demo-run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"hidden": 64}))
    (run / "history.json").write_text(
        json.dumps(
            {"loss": [2.3, 1.0], "train_acc": [0.8], "test_acc": [0.79], "steps_per_epoch": 2}
        )
    )
    with run_lock.training(run):
        yield runs


@pytest.fixture(scope="session")
def digit(mnist_10k_inputs):
    """A real test digit (a 7) as 28x28 values in [0, 1], and its label."""
    x_test, t_test = mnist_10k_inputs[2], mnist_10k_inputs[3]
    return x_test[0].reshape(28, 28).astype(float), int(t_test[0])


@contextlib.contextmanager
def training_process(run):
    """A real process holding the run's lock as `digitlab train` does while it trains, started
    and ready; yields its Popen (kill it to see what a killed training leaves behind)."""
    command = [
        sys.executable,
        "-c",
        "import time; from digitlab.workflows import run_lock\n"
        f"with run_lock.training({str(run)!r}):\n"
        "    print('training', flush=True); time.sleep(120)",
    ]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        try:
            assert process.stdout.readline().strip() == "training"
            yield process
        finally:
            process.kill()

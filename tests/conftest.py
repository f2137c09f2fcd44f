"""Fixtures shared by the test modules."""

import socket
from pathlib import Path

import numpy as np
import pytest


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data sets in ../shared/data beside the repository root (see its README)."""
    return Path(__file__).resolve().parents[1].parent / "shared" / "data"


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
    from digitlab.datasets import load_dataset
    from digitlab.run import to_inputs

    data = load_dataset("mnist-10k")
    return (
        to_inputs(data.x_train),
        data.t_train.astype(np.intp),
        to_inputs(data.x_test),
        data.t_test.astype(np.intp),
    )

"""No lost or stray files: another run's folder is not overwritten without --overwrite, an empty
--out is refused, a save killed midway leaves nothing behind for long, and a full disk is one
clear error with the previous file intact."""

from __future__ import annotations

import errno
import os
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from digitlab import TwoLayerNet, modelfile
from digitlab.atomic import STALE_SECONDS, atomic_write
from digitlab.cli import main
from digitlab.errors import ConfigError, WriteError
from digitlab.workflows.run import prepare_out_dir
from hostile import JSON_VALUES, SETTINGS


def a_run_folder(folder):
    folder.mkdir()
    (folder / "model.npz").write_bytes(b"another run's model")
    (folder / "history.json").write_text("[]")
    return folder


def test_out_onto_another_run_is_refused_and_leaves_it_as_it_was(tmp_path, capsys):
    folder = a_run_folder(tmp_path / "run")
    code = main(["train", "--epochs", "1", "--out", str(folder)])
    err = capsys.readouterr().err
    assert code == 1
    assert "already holds a run (model.npz, history.json)" in err and "--overwrite" in err
    assert (folder / "model.npz").read_bytes() == b"another run's model"


def test_overwrite_says_it_may(tmp_path):
    folder = a_run_folder(tmp_path / "run")
    assert prepare_out_dir(folder, overwrite=True) == folder


def test_an_empty_folder_or_a_new_one_is_fine(tmp_path):
    (tmp_path / "empty").mkdir()
    assert prepare_out_dir(tmp_path / "empty") == tmp_path / "empty"
    assert prepare_out_dir(tmp_path / "new" / "run").is_dir()


@pytest.mark.parametrize("out", ["", "  "])
def test_an_empty_out_is_refused(out, capsys):
    with pytest.raises(ConfigError, match="--out is empty"):
        prepare_out_dir(out)
    assert main(["train", "--epochs", "1", "--out", out]) == 1
    assert "--out is empty" in capsys.readouterr().err


def test_leftovers_of_a_killed_save_are_removed_by_the_next(tmp_path):
    path = tmp_path / "model.npz"
    old = tmp_path / ".model.npz.k1ll3d.tmp"
    young = tmp_path / ".model.npz.s4v1ng.tmp"  # another process's save, in progress
    for leftover in (old, young):
        leftover.write_bytes(b"half a model")
    past = time.time() - 2 * STALE_SECONDS
    os.utime(old, (past, past))
    modelfile.save(TwoLayerNet(4, 3, 2, seed=0), path)
    assert not old.exists() and young.exists()
    os.utime(young, (past, past))
    modelfile.load(path)  # a load cleans up too
    assert not young.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


class FullDisk:
    """A file whose writes fail as on a full disk."""

    def __init__(self, file):
        self.file = file

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def write(self, data):
        raise OSError(errno.ENOSPC, "No space left on device")


def test_a_full_disk_is_one_error_and_keeps_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "model.npz"
    modelfile.save(TwoLayerNet(4, 3, 2, seed=0), path)
    before = path.read_bytes()
    real = os.fdopen
    monkeypatch.setattr("digitlab.atomic.os.fdopen", lambda *a, **k: FullDisk(real(*a, **k)))
    with pytest.raises(WriteError, match="the disk is full; free some space") as error:
        modelfile.save(TwoLayerNet(4, 3, 2, seed=1), path)
    assert str(path) in str(error.value)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.npz"]


def test_other_write_errors_pass_through_unchanged(tmp_path):
    with pytest.raises(ZeroDivisionError), atomic_write(tmp_path / "x.txt") as f:
        f.write("part")
        _ = 1 / 0
    assert list(tmp_path.iterdir()) == []


# -- values checked where they enter ---------------------------------------------------------------


@pytest.mark.parametrize(
    "args, message",
    [
        (["--seed", "-1"], "-1 is not in the range x>=0"),
        (["--weight-init", "1e30"], "is over 100: the first layer's outputs would overflow"),
        (["--hidden", "99999999999"], "79,499,999,999,215 weights: training needs about"),
    ],
)
def test_cli_values_are_refused_in_one_line(tmp_path, capsys, args, message):
    assert main(["train", "--epochs", "1", "--out", str(tmp_path / "run"), *args]) in (1, 2)
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


@pytest.mark.parametrize(
    "t, message",
    [
        ([42] * 5, "the label 42, outside the 10 classes 0-9"),
        ([-1] * 5, "the label -1, outside"),
        ([0.5] * 5, "not whole numbers"),
        ([1] * 4, "shape (4,) and dtype int64 for 5 samples"),
        ("abc", "give 5 class indices"),
    ],
)
def test_python_api_labels_are_checked(t, message):
    import numpy as np

    from digitlab.errors import DataError

    network = TwoLayerNet(784, 10, 10, seed=0)
    x = np.zeros((5, 784))
    for method in (network.accuracy, network.loss, network.gradient):
        with pytest.raises(DataError) as error:
            method(x, np.asarray(t) if t != "abc" else t)
        assert message in str(error.value)


def test_python_api_input_width_is_checked():
    import numpy as np

    from digitlab.errors import DataError

    with pytest.raises(DataError, match=r"where \(N, 784\) numbers belong"):
        TwoLayerNet(784, 10, 10, seed=0).predict(np.zeros((5, 100)))


def test_float_labels_that_are_whole_numbers_are_accepted():
    import numpy as np

    network = TwoLayerNet(784, 10, 10, seed=0)
    x = np.random.default_rng(0).random((5, 784))
    labels = np.array([0, 1, 2, 3, 4])
    assert network.loss(x, labels.astype(float)) == network.loss(x, labels)


# -- config files ---------------------------------------------------------------------------


def test_config_files_are_capped_and_not_nested(tmp_path):
    from digitlab.workflows.config import MAX_CONFIG_BYTES, load_config

    big = tmp_path / "big.json"
    big.write_text('{"epochs": 1' + " " * MAX_CONFIG_BYTES + "}")
    with pytest.raises(ConfigError, match="is over 1,048,576 bytes"):
        load_config(big)
    nested = tmp_path / "nested.json"
    nested.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_config(nested)


@SETTINGS
@given(value=JSON_VALUES, key=st.sampled_from(["epochs", "lr", "hidden", "seed", "data", "x"]))
def test_any_config_value_is_a_config_or_one_error(tmp_path_factory, key, value):
    import json

    from digitlab.workflows.config import load_config

    path = tmp_path_factory.mktemp("config") / "config.json"
    path.write_text(json.dumps({key: value}))
    try:
        load_config(path)
    except ConfigError as error:
        assert str(path) in str(error) or key in str(error)


# -- absurd learning rates: the watcher's finding first, no numpy warning, an honest exit -------


def _train_strict(tmp_path, *args):
    import subprocess
    import sys

    return subprocess.run(
        [sys.executable, "-W", "error", "-m", "digitlab", "train", "--epochs", "1",
         "--no-report", "--out", str(tmp_path / "run"), *args],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "LANG": "C.UTF-8"},
    )  # fmt: skip


def test_a_diverging_rate_is_named_and_fails_the_run(tmp_path):
    done = _train_strict(tmp_path, "--lr", "1e30")
    assert done.returncode == 1, done.stderr
    assert "exploding-gradient" in (tmp_path / "run" / "findings.json").read_text()
    assert "training diverged" in done.stderr
    assert "warning" not in done.stderr and "Traceback" not in done.stderr


def test_a_vanishing_rate_is_named(tmp_path):
    done = _train_strict(tmp_path, "--lr", "1e-30")
    assert done.returncode == 0, done.stderr
    assert "learning-rate-too-low" in (tmp_path / "run" / "findings.json").read_text()
    assert "training barely moves" in done.stdout


def test_a_batch_larger_than_the_data_is_the_whole_data():
    import numpy as np

    from digitlab import SGD, Trainer

    network = TwoLayerNet(8, 4, 3, seed=0)
    trainer = Trainer(network, SGD(0.1), epochs=1, batch_size=10**12, progress=False, log=None)
    history = trainer.fit(np.random.default_rng(0).random((20, 8)), np.arange(20) % 3)
    assert history.steps_per_epoch == 1


def test_a_batch_that_cannot_fit_in_memory_is_refused_with_its_estimate():
    import numpy as np

    from digitlab.nn.network import check_batch_memory

    estimate = r"a batch of 1,000,000 samples .* needs about 16012.7 GB"
    with pytest.raises(ConfigError, match=estimate):
        check_batch_memory([784, 1_000_000, 10], 1_000_000, np.float32)
    check_batch_memory([784, 100, 10], 100, np.float32)  # 100 MNIST images: nothing to say


def test_an_early_stop_is_no_divergence(tmp_path, capsys):
    """Early stopping ends a healthy run early: exit 0, nothing said of divergence (only the
    watcher's stop fails a run)."""
    args = ["train", "--hidden", "16", "--epochs", "8", "--batch-size", "500", "--no-report"]
    args += ["--no-progress", "--validation", "0.1", "--early-stopping", "1", "--lr", "0.8"]
    assert main([*args, "--out", str(tmp_path / "run")]) == 0
    out, err = capsys.readouterr()
    assert "no better validation accuracy" in out  # it did stop early
    assert "training diverged" not in err

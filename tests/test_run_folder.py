"""A run folder can be read while it is written: history.json after every epoch, atomically."""

import json

import numpy as np
import pytest

from digitlab import SGD, Trainer, TwoLayerNet
from digitlab.atomic import atomic_write, write_text
from digitlab.workflows.run import SaveHistoryEachEpoch


def test_history_is_on_disk_after_every_epoch(tmp_path, mnist_10k_inputs):
    x, t = mnist_10k_inputs[0][:1000], mnist_10k_inputs[1][:1000]
    path = tmp_path / "history.json"
    seen = []

    class ReadBack:
        def on_epoch_end(self, trainer, epoch):
            seen.append(len(json.loads(path.read_text())["train_acc"]))

    trainer = Trainer(
        TwoLayerNet(784, 16, 10, seed=0),
        SGD(0.1),
        epochs=3,
        batch_size=100,
        log=None,
        progress=False,
        callbacks=[SaveHistoryEachEpoch(path), ReadBack()],
    )
    trainer.fit(x, t)
    assert seen == [1, 2, 3]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    path = tmp_path / "history.json"
    write_text(path, "old")
    with pytest.raises(RuntimeError), atomic_write(path) as f:
        f.write("half of the new")
        raise RuntimeError("crash mid-write")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]


def test_written_files_are_readable_by_others(tmp_path):
    path = tmp_path / "a.bin"
    with atomic_write(path, "wb") as f:
        f.write(np.arange(3, dtype=np.uint8).tobytes())
    assert path.read_bytes() == b"\x00\x01\x02"
    assert path.stat().st_mode & 0o044  # not mkstemp's private 0600

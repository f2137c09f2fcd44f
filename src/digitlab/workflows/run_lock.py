"""Whether a run folder's training process is still alive: a lock it holds while it trains.

A run writes `model.npz` when it finishes; until then its folder looks the same whether it is
training or its process was killed (Ctrl+C, `kill -9`, a reboot). So a training run holds an
exclusive lock on `train.lock` in its folder from start to end. The operating system releases
the lock when the process ends, however it ends, so whoever finds the file unlocked knows the
run has stopped, with no process id to be reused by another program and no clock to trust.
Where the system has no `fcntl` (Windows), the file's presence stands in for the lock.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from digitlab.errors import ConfigError
from digitlab.i18n import _

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

LOCK_FILE = "train.lock"


@contextlib.contextmanager
def training(run: Path) -> Iterator[None]:
    """Hold the run's lock while the block trains; the file is removed at the end."""
    path = Path(run) / LOCK_FILE
    with path.open("a") as file:  # "w" would empty a live run's file before the lock fails
        if fcntl is not None:
            try:
                fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                raise ConfigError(
                    _(
                        "another digitlab process is training into {folder}; wait for it, or "
                        "choose another --out."
                    ).format(folder=run)
                ) from None
        file.truncate(0)
        file.write(f"{os.getpid()}\n")
        file.flush()
        try:
            yield
        finally:
            path.unlink(missing_ok=True)  # still locked: a reader sees either no file or a lock


def is_training(run: Path) -> bool:
    """Whether a live process holds the run's lock (False when there is no lock file)."""
    path = Path(run) / LOCK_FILE
    try:
        # O_NOFOLLOW: a link planted in a runs folder is not followed anywhere
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return False
    try:
        if fcntl is None:
            return True
        try:
            fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except OSError:  # held by the training process
            return True
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        return False
    finally:
        os.close(descriptor)

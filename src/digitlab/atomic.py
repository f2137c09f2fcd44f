"""Atomic file writes: a reader (or a crash) never sees a half-written file.

Run folders are read while they are written (the web app's runs page polls history.json as a
run trains), and a model file must never be left half written; both write to a temporary
file in the same folder and rename it over the target, which POSIX and Windows do atomically.
A temporary file left by a killed process (`kill -9` during a save) is removed by the next
write of the same file; a full disk is one clear error, with the previous file intact.
"""

from __future__ import annotations

import errno
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from digitlab.errors import WriteError
from digitlab.i18n import _

#: a temporary file this old is a leftover of a killed writer, not a save in progress
STALE_SECONDS = 60.0
#: what an OSError says when the disk (or the user's quota) is full
FULL = (errno.ENOSPC, errno.EDQUOT)


@contextmanager
def atomic_write(path: str | Path, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside `path` ("w" text as UTF-8, or "wb"); on success rename it
    to `path`, on any exception delete it and leave `path` as it was."""
    path = Path(path)
    remove_stale(path)
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        _raise_if_full(exc, path)
        raise
    try:
        encoding = None if "b" in mode else "utf-8"
        with os.fdopen(fd, mode, encoding=encoding) as f:
            yield f
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes it private; ours are normal files
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError):
            _raise_if_full(exc, path)
        raise


def remove_stale(path: str | Path) -> None:
    """Delete the temporary files of `path` that a killed writer left (older than
    STALE_SECONDS: a younger one may be another process's save in progress)."""
    path = Path(path)
    now = time.time()
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        try:
            if now - leftover.stat().st_mtime > STALE_SECONDS:
                leftover.unlink()
        except OSError:
            continue  # gone already, or not ours to delete: the save goes on


def _raise_if_full(exc: OSError, path: Path) -> None:
    if exc.errno in FULL:
        raise WriteError(
            _(
                "cannot write {path}: the disk is full; free some space and run again (the "
                "previous {name} is kept as it was)."
            ).format(path=path, name=path.name)
        ) from None


def write_text(path: str | Path, text: str) -> None:
    """Path.write_text, atomically."""
    with atomic_write(path) as f:
        f.write(text)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

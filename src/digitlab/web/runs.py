"""The runs folder as the runs page sees it: which runs there are, and what each has written.

A runs folder is written by training runs, but anything can end up in it: a damaged or
enormous history.json, a file that is JSON but not a history, a link to elsewhere on the disk.
So a run is only a real folder inside the runs folder (never a symbolic link out of it), every
JSON file is read only up to a size limit, and a run whose files cannot be read is listed as
unreadable, with the reason, instead of failing the whole list.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from urllib.parse import quote

from digitlab.workflows import run_lock

#: the largest history.json or config.json read: a history holds one loss per step, and
#: 200 epochs of 600 steps is ~2.5 MB of JSON
MAX_JSON_BYTES = 8 << 20
#: the lists of numbers a history.json holds (see digitlab.train.history.History)
HISTORY_SERIES = ("loss", "train_acc", "test_acc")
#: deeper JSON is no run's: the page's JSON encoder would recurse once per level
MAX_JSON_NESTING = 32
EMPTY_HISTORY = {"loss": [], "train_acc": [], "test_acc": [], "steps_per_epoch": 0}


class UnreadableRunFileError(Exception):
    """A run's JSON file is too large, not JSON, or not what a run writes there."""


def list_runs(runs_dir: Path | None) -> list[Path]:
    """The run folders directly under runs_dir (those holding config.json or history.json),
    newest first; symbolic links are left out, since they may point anywhere on the disk."""
    if runs_dir is None or not Path(runs_dir).is_dir():
        return []
    runs = []
    for path in Path(runs_dir).iterdir():
        try:
            if not path.is_symlink() and path.is_dir() and _has_run_files(path):
                runs.append((path.stat().st_mtime, path))
        except OSError:  # removed while we looked: it is no longer a run
            continue
    return [path for _mtime, path in sorted(runs, key=lambda item: item[0], reverse=True)]


def find_run(runs_dir: Path | None, name: str) -> Path | None:
    """The run folder called `name`, or None. Found by listing, so no name reaches outside."""
    return next((path for path in list_runs(runs_dir) if path.name == name), None)


def _has_run_files(path: Path) -> bool:
    return (path / "config.json").is_file() or (path / "history.json").is_file()


def read_history(run: Path) -> dict:
    """The run's history.json as written so far (an empty history before the first epoch).
    Numbers that are not finite (a loss gone to NaN) become None, as JSON has no NaN.
    Raises UnreadableRunFileError."""
    path = run / "history.json"
    if not path.exists():
        return dict(EMPTY_HISTORY)
    history = read_json_object(path)
    for key in HISTORY_SERIES:
        series = history.get(key, [])
        if not isinstance(series, list) or not all(_is_number(v) for v in series):
            raise UnreadableRunFileError(f"history.json: {key} is not a list of numbers")
    return history


def read_config(run: Path) -> dict:
    """The run's config.json, or {} when it has none. Raises UnreadableRunFileError."""
    path = run / "config.json"
    return read_json_object(path) if path.exists() else {}


def run_summary(run: Path) -> dict:
    """What the runs page lists for a run: name, state (finished; training, while its process
    holds the run's lock; stopped, when that process is gone without a model; or unreadable,
    with the `problem`), epochs, last accuracies, config and the report's address."""
    problem = None
    try:
        history, config = read_history(run), read_config(run)
    except UnreadableRunFileError as exc:
        history, config, problem = EMPTY_HISTORY, {}, str(exc)
    if problem is not None:
        state = "unreadable"
    else:
        state = (
            "finished"
            if (run / "model.npz").is_file()
            else "training"
            if run_lock.is_training(run)
            else "stopped"
        )
    report = run / "report.html"
    # the address of the report: a folder name may hold any character (`my run #2`)
    address = f"/files/{quote(run.name, safe='')}/report.html"
    return {
        "name": run.name,
        "state": state,
        "problem": problem,
        "epochs": len(history.get("train_acc", [])),
        "train_acc": (history.get("train_acc") or [None])[-1],
        "test_acc": (history.get("test_acc") or [None])[-1],
        "config": config,
        "report": address if _is_own_file(report, run) else None,
    }


def read_json_object(path: Path) -> dict:
    """A JSON object from `path`, read only if it is a regular file inside its run folder and
    at most MAX_JSON_BYTES. NaN and infinities become None. Raises UnreadableRunFileError."""
    name = path.name
    if not _is_own_file(path, path.parent):
        raise UnreadableRunFileError(f"{name}: not a file of the run (a link out of it?)")
    try:
        with path.open("rb") as file:
            raw = file.read(MAX_JSON_BYTES + 1)  # never more, however large the file grew
    except OSError as exc:
        raise UnreadableRunFileError(f"{name}: {exc.strerror or exc}") from None
    if len(raw) > MAX_JSON_BYTES:
        raise UnreadableRunFileError(f"{name}: larger than {MAX_JSON_BYTES:,} bytes")
    try:
        value = json.loads(raw, parse_constant=lambda _constant: None)
    except ValueError:  # not UTF-8, or not JSON
        raise UnreadableRunFileError(f"{name}: not valid JSON") from None
    except RecursionError:  # nested deeper than the parser's stack
        raise _too_deep(name) from None
    if not isinstance(value, dict):
        raise UnreadableRunFileError(f"{name}: not a JSON object")
    if _nesting(value) > MAX_JSON_NESTING:
        raise _too_deep(name)
    return value


def _too_deep(name: str) -> UnreadableRunFileError:
    return UnreadableRunFileError(f"{name}: nested more than {MAX_JSON_NESTING} levels deep")


def _nesting(value: object) -> int:
    """How many levels of lists and objects `value` has (1 for a flat object), without
    recursion, so that no depth of input can overflow the stack."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, (dict, list)):
            deepest = max(deepest, level)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, level + 1) for child in children)
    return deepest


def _is_own_file(path: Path, run: Path) -> bool:
    """Whether `path` is a regular file that is really inside `run` (no link leads out)."""
    try:
        return path.is_file() and not path.is_symlink() and path.resolve().parent == run.resolve()
    except OSError:
        return False


def _is_number(value: object) -> bool:
    """A JSON number, or None (a NaN or infinity as read); booleans are not numbers."""
    if value is None:
        return True
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)

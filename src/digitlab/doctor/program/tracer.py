"""Running a learner's program as `python PROGRAM.py ARGS` would, and watching it learn.

The program runs in this process under `sys.settrace`, traced only in the learner's own files
(not the standard library, not installed packages, not digitlab). The tracer

- evaluates the targets of each update site (`W -= lr * dW`, see `sites`) just before and just
  after the statement, which gives every update the program applies, from the weights before it;
- keeps the arrays the learner's functions return and leave in their locals, so that the network
  can be recovered from them (`model.identify`) the first time a weight is updated;
- groups the updates of the recovered weights into steps, and stops the program after the
  budget (`steps` weight updates, or `seconds`);
- times and checks the learner's own numerical gradient, and stops a program that trains with
  one as soon as the cost of a step is known;
- records where numpy first overflowed or made a NaN (`np.seterrcall`), at the learner's line.

Nothing is written into the learner's folder (no bytecode, no plots shown), and everything the
program changed in this process (working directory, sys.path, sys.argv, modules, random
states, numpy's error handling) is put back afterwards.
"""

from __future__ import annotations

import contextlib
import gc
import io
import linecache
import os
import random
import re
import sys
import sysconfig
import time
import traceback
import types
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitlab.doctor.program import sites
from digitlab.doctor.program.model import Model, identify
from digitlab.doctor.program.scope import arrays_in_scope
from digitlab.errors import DigitlabError
from digitlab.i18n import _

#: attempts to recover the network from one update target before it is given up on
IDENTIFY_TRIES = 2
#: line events between two looks at the clock
CLOCK_EVERY = 256
#: numpy floating-point events kept (the first ones are the cause; the rest follow from them)
FLOAT_EVENTS_KEPT = 5
#: characters of the program's own output kept for the report
OUTPUT_KEPT = 4000
#: a numerical gradient whose step would take longer than this is not waited for
NUMERICAL_STEP_LIMIT = 0.5
#: coordinates of the learner's numerical gradient checked against central differences
NUMERICAL_PROBE = (2, 3)
#: names that hold a learning rate in learners' code
RATE_NAME = re.compile(r"lr|learn|alpha|eta|rate|step", re.IGNORECASE)
#: arrays kept from the learner's functions (distinct names and shapes: more is data)
POOL_LIMIT = 400
#: entries of a returned list/tuple/dict looked into (more is a data set, not a network's)
POOL_CONTAINER = 16
NUMERICAL_NAME = re.compile(r"numer|num_grad|numgrad", re.IGNORECASE)
#: names learners give one sample's target in a per-sample loop
FEED_TARGET = re.compile(
    r"(t|y|yi|ti|y_?i|targets?|labels?|one_?hot|y_?true|expected|desired|answer|digit)",
    re.IGNORECASE,
)
#: samples of a per-sample loop kept for one step
FEED_LIMIT = 20_000
#: steps whose samples are kept (the analysis judges the first few updates only)
FEED_STEPS = 4


class ProgramError(DigitlabError):
    """The program cannot be examined: it is missing, or no network was found in it."""


class _Stop(BaseException):
    """Raised into the learner's frame to end the run (not an Exception: their `except
    Exception` must not swallow it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class Update:
    """One weight's update in one step: the weights before it and the change applied."""

    name: str
    before: np.ndarray
    after: np.ndarray
    file: str
    line: int
    #: the learning rate the statement multiplies by, where one was found
    rate: float | None
    rate_name: str | None


@dataclass
class Step:
    updates: dict[str, Update] = field(default_factory=dict)
    #: the arrays the program held when the step's first weight was updated (x_batch, t, ...)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    #: a per-sample loop's samples fed since the step before, with their targets (a label, a
    #: target vector, or None where none was found)
    fed: list[tuple[np.ndarray, object]] = field(default_factory=list)


@dataclass
class FloatEvent:
    """numpy's first overflow / invalid value / division by zero, at the learner's line."""

    kind: str
    file: str
    line: int
    function: str
    source: str
    step: int


@dataclass
class NumericalGradient:
    """The learner's own numerical gradient: what it costs and whether it is right."""

    function: str
    file: str
    line: int
    seconds_per_loss: float
    coordinates: int
    rms_theirs: float
    rms_truth: float
    relative_error: float
    batch: int
    train_size: int


@dataclass
class Recording:
    """What watching the program found."""

    program: Path
    steps: list[Step]
    model: Model | None
    float_events: list[FloatEvent]
    numerical: NumericalGradient | None
    #: (exception text, file, line, function) where the program raised, or None
    raised: tuple[str, str, int, str] | None
    #: "finished", "steps", "seconds" or "numerical"
    stopped: str
    output: str
    seconds: float
    #: the arrays the program held at the end (its globals) or when the network was recovered
    arrays: dict[str, np.ndarray]
    #: the learner's files that ran (the program first, then the modules it imported)
    files: tuple[str, ...] = ()


def _system_roots() -> tuple[str, ...]:
    roots = {sys.prefix, sys.base_prefix, sys.exec_prefix}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        with contextlib.suppress(KeyError):
            roots.add(sysconfig.get_paths()[key])
    roots.add(str(Path(__file__).resolve().parents[2]))  # digitlab itself
    return tuple(os.path.realpath(r) + os.sep for r in roots)


class Tracer:
    def __init__(self, steps: int, seconds: float) -> None:
        self.max_steps = steps
        self.deadline = time.perf_counter() + seconds
        self.roots = _system_roots()
        self._learner: dict[str, bool] = {}
        self._pending: dict[object, tuple] = {}
        #: each update target's value after its last run, before the network is recovered
        self._last: dict[tuple, object] = {}
        #: whether a learner's function ran since the last update (a step boundary)
        self._called = False
        #: whether the current step began before the network was recovered
        self._partial = False
        #: the first run of each update target (before the network is recovered), and the
        #: arrays the program held then: the program's first step, once its weights are known
        self._early: dict[tuple, Update] = {}
        self._early_arrays: dict[tuple, dict] = {}
        #: attempts to recover the network at each update target (a chained `x = f(x)` looks
        #: like an update too, and is given up on)
        self._tried: dict[tuple, int] = {}
        self._events = 0
        self.pool: dict[str, np.ndarray] = {}
        self.model: Model | None = None
        self.arrays: dict[str, np.ndarray] = {}
        #: the learner's name of each recovered weight -> the array object now holding it
        self.weights: dict[int, str] = {}
        self.steps: list[Step] = []
        self.current: Step | None = None
        self.float_events: list[FloatEvent] = []
        self.numerical: NumericalGradient | None = None
        self._numerical_checked = False
        #: the code object of each function the pool's arrays were kept from
        self._pool_code: dict[str, types.CodeType] = {}
        #: a per-sample loop: (code, variable, shape, classes) of the network's one-sample input
        self.feed: tuple | None = None
        self._fed: list[list] = []
        self._fed_last: object = None
        self._target_name: str | None = None

    # -- which code is the learner's ---------------------------------------------------------

    def is_learner(self, filename: str) -> bool:
        known = self._learner.get(filename)
        if known is None:
            known = not filename.startswith("<") and not os.path.realpath(filename).startswith(
                self.roots
            )
            self._learner[filename] = known
        return known

    def learner_frames(self, frame) -> list:
        frames = []
        while frame is not None:
            if self.is_learner(frame.f_code.co_filename):
                frames.append(frame)
            frame = frame.f_back
        return frames

    # -- sys.settrace callbacks ---------------------------------------------------------------

    def global_trace(self, frame, event, arg):
        if not self.is_learner(frame.f_code.co_filename):
            return None
        # the doctor's own failure must never change the learner's run
        with contextlib.suppress(Exception):
            self._call(frame)
        return self.local_trace

    def _call(self, frame) -> None:
        name = frame.f_code.co_name
        if not name.startswith("<"):
            self._called = True  # a forward or backward pass: the next update starts a step
            if NUMERICAL_NAME.search(name):
                self._numerical_call(frame)

    def local_trace(self, frame, event, arg):
        with contextlib.suppress(Exception):
            self._event(frame, event, arg)
        return self.local_trace

    def _event(self, frame, event, arg) -> None:
        pending = self._pending.pop(frame, None)
        if pending is not None:
            site, watched, rate = pending
            if event == "line" and site.line <= frame.f_lineno <= site.end_line:
                self._pending[frame] = pending  # still inside a multi-line statement
            else:
                self._after(frame, site, watched, rate)
        if event == "line":
            self._events += 1
            if self._events % CLOCK_EVERY == 0 and time.perf_counter() > self.deadline:
                raise _Stop("seconds")
            if self.max_steps and len(self.steps) >= self.max_steps:
                raise _Stop("steps")
            if self.feed is not None and frame.f_code is self.feed[0]:
                if len(self.steps) >= FEED_STEPS:
                    self.feed = None  # enough steps to judge: no more per-line look-ups
                else:
                    self._feed(frame)
            site = sites.update_sites(frame.f_code.co_filename).get(frame.f_lineno)
            if site is not None and frame not in self._pending:
                self._before(frame, site)
        elif event == "return" and frame.f_code.co_name != "<module>":
            self._observe(frame, arg)

    # -- updates ---------------------------------------------------------------------------------

    def _before(self, frame, site: sites.Site) -> None:
        watched = []
        with _quiet():
            for target in site.targets:
                value = _evaluate(target.code, frame)
                if self.model is None:
                    # a weight is updated from its own last value, step after step; a softmax
                    # shifting its input or a fresh gradient sum is not
                    key = (site.file, site.line, target.text, _index(target, frame))
                    if key not in self._early and _is_float_array(value):
                        # the first run of every update: the program's first step, should it
                        # update weights
                        self._early[key] = Update(
                            "", value.copy(), value, site.file, site.line, *_rate(site, frame)
                        )
                        self._early_arrays.setdefault(
                            key, {**arrays_in_scope(self.learner_frames(frame)), **self.pool}
                        )
                    if _is_float_array(value) and self._tried.get(key, 0) < IDENTIFY_TRIES:
                        self._tried[key] = self._tried.get(key, 0) + 1
                        self._try_identify(frame, value)
                    if self.model is None:
                        watched.append(_Watch(target, key, before=value))
                        continue
                for obj, suffix in _arrays_of(value):
                    name = self.weights.get(id(obj))
                    if name is not None:
                        self._boundary(name)
                        watched.append(_Watch(target, None, suffix, name, obj, obj.copy()))
        if watched:
            self._pending[frame] = (site, watched, _rate(site, frame))

    def _after(self, frame, site: sites.Site, watched: list[_Watch], rate) -> None:
        with _quiet():
            for watch in watched:
                value = _evaluate(watch.target.code, frame)
                if watch.key is not None:
                    if not isinstance(value, np.ndarray) or (
                        isinstance(watch.before, np.ndarray) and value.shape != watch.before.shape
                    ):
                        continue  # not an array, or a reshape (x = x.reshape(-1, 1))
                    self._last[watch.key] = value
                    early = self._early.get(watch.key)
                    if (
                        early is not None
                        and early.name == ""
                        and _is_float_array(value)
                        and value.shape == early.before.shape
                    ):
                        early.after, early.name = value.copy(), "done"
                    continue
                after = _element(value, watch.suffix)
                if not isinstance(after, np.ndarray) or after.shape != watch.before.shape:
                    continue
                if self.weights.pop(id(watch.obj), None) is None:
                    continue  # already recorded inside the function that returned it
                self.weights[id(after)] = watch.name
                self._record(
                    frame,
                    Update(watch.name, watch.before, after, site.file, site.line, *rate),
                )

    def _boundary(self, name: str) -> None:
        """Before `name` is updated: end the current step if this update begins the next one
        (the weight was updated already, or the program ran a forward or backward pass since
        the last update). Ended before the statement runs, so in-place weights are copied
        with this step's values."""
        if self.current is not None and (name in self.current.updates or self._called):
            self._close()
        self._called = False

    def _record(self, frame, update: Update) -> None:
        if self.current is None:
            # what the step's forward and backward passes left: the named arrays, and what the
            # functions saw (a batch that was never named: forward_prop(X[idx], params))
            arrays = {**arrays_in_scope(self.learner_frames(frame)), **self.pool}
            self.current = Step(arrays=arrays, fed=[(x, t) for x, t in self._fed])
            self._fed = []
        self.current.updates[update.name] = update

    def _close(self) -> None:
        """End the current step: the arrays its updates left are copied now, before the next
        step changes them in place."""
        if self.current is None:
            return
        if self._partial:
            # the step the network was recovered in may have begun before it was recognized
            self._partial = False
            self.current = None
            return
        for update in self.current.updates.values():
            update.after = np.array(update.after, copy=True)
        self.steps.append(self.current)
        self.current = None

    # -- recovering the network ----------------------------------------------------------------

    def _try_identify(self, frame, value: np.ndarray) -> None:
        arrays = {**arrays_in_scope(self.learner_frames(frame)), **self.pool}
        applied = {id(value)}
        for target in self._last.values():
            applied.update(id(obj) for obj, _ in _arrays_of(target))
        model = identify(arrays, value, applied | self._site_arrays(frame), applied)
        if model is None:
            return  # not a weight being updated (a softmax shifting its input, a counter)
        self.model = model
        self.arrays = arrays
        self._watch_feed(model, arrays, self.learner_frames(frame))
        self._first_step(model)
        self.weights = {id(model.arrays[name]): name for name in model.weight_names}

    def _site_arrays(self, frame) -> set[int]:
        """The arrays every update statement of this file would change, as far as they can be
        told from here (a dict's or list's every entry for `params[key] -= ...`)."""
        found: set[int] = set()
        for site in sites.update_sites(frame.f_code.co_filename).values():
            for target in site.targets:
                value = _evaluate(target.code, frame)
                if target.base is not None:
                    container = _evaluate(compile(target.base, "<doctor>", "eval"), frame)
                    if isinstance(container, (dict, list, tuple)):
                        value = container  # every layer's: `self.W[i] -= ...` in a loop
                found.update(id(obj) for obj, _ in _arrays_of(value))
        return found

    def _first_step(self, model: Model) -> None:
        """The program's first update of each recovered weight, recorded before they were
        recognized, as step 1 (where every weight has one)."""
        first = Step()
        keys = {
            name: next((k for k, v in self._last.items() if v is model.arrays[name]), None)
            for name in model.weight_names
        }
        # a weight updated before it was recognized: the step under way began before
        self._partial = any(key is not None for key in keys.values())
        for name, key in keys.items():
            early = self._early.get(key)
            if early is None or early.name != "done":
                return
            first.updates[name] = Update(
                name,
                early.before,
                early.after,
                early.file,
                early.line,
                early.rate,
                early.rate_name,
            )
            first.arrays = first.arrays or self._early_arrays[key]
        self.steps.append(first)

    def identify_at_end(self, namespace: Mapping) -> None:
        """A last attempt where no update was seen: the program's globals, the arrays its
        functions returned, and the output of any `predict` it defines."""
        arrays = {**arrays_in_scope([], dict(namespace)), **self.pool}
        with _quiet():
            arrays.update(_predictions(namespace, arrays))
            self.arrays = arrays
            if self.model is None:
                self.model = identify(arrays)

    def _observe(self, frame, value) -> None:
        """Keep what a learner's function returns and the arrays in its locals (not a
        comprehension's: a list of every image is data, not the network's arrays)."""
        name = frame.f_code.co_name
        if name.startswith("<"):
            return
        kept = [(f"{name}(){suffix}", obj) for obj, suffix in _arrays_of(value, POOL_CONTAINER)]
        for local, item in frame.f_locals.items():
            # floats (inputs, activations) and integers (the labels of a batch)
            if isinstance(item, np.ndarray) and item.dtype.kind in "fiu" and item.size:
                kept.append((local, item))
            else:
                kept.extend((f"{local}{s}", obj) for obj, s in _arrays_of(item, POOL_CONTAINER))
        for key, obj in kept:
            key = f"{key}#{obj.shape}"
            if key in self.pool or len(self.pool) < POOL_LIMIT:
                self.pool[key] = obj
                self._pool_code[key] = frame.f_code

    # -- a per-sample loop -------------------------------------------------------------------

    def _watch_feed(self, model: Model, arrays: dict, frames: list) -> None:
        """Where the network's input is one sample, the variable that holds it: each sample
        fed through it is kept (with its target) for the step its update belongs to."""
        x = arrays.get(model.input)
        if not model.one_sample or not isinstance(x, np.ndarray):
            return
        name = model.input.split("#")[0]
        if not name.isidentifier():
            return  # what a function returned, or an entry of a container: not a variable
        code = self._pool_code.get(model.input)
        if code is None:
            code = next((f.f_code for f in frames if f.f_locals.get(name) is x), None)
        if code is not None:
            self.feed = (code, name, x.shape, model.classes)
            self._fed_last = x  # the sample under way was fed before the watch began

    def _feed(self, frame) -> None:
        _, name, shape, classes = self.feed
        local = frame.f_locals
        x = local.get(name)
        if isinstance(x, np.ndarray) and x.shape == shape and x is not self._fed_last:
            self._fed_last = x
            if len(self._fed) < FEED_LIMIT:
                self._fed.append([np.array(x, dtype=np.float64), None])
        if self._fed and x is self._fed_last:
            # read at every line of the sample's pass: the target is set after the input
            self._fed[-1][1] = self._feed_target(local, classes)

    def _feed_target(self, local, classes: int):
        names = [self._target_name] if self._target_name else list(local)
        for key in names:
            target = _sample_target(local.get(key), classes)
            if target is not None and FEED_TARGET.fullmatch(str(key)):
                self._target_name = key
                return target
        return None

    # -- the learner's numerical gradient --------------------------------------------------------

    def _numerical_call(self, frame) -> None:
        if self._numerical_checked:
            return
        values = list(frame.f_locals.values())
        f = next((v for v in values if callable(v) and not isinstance(v, type)), None)
        x = next((v for v in values if _is_float_array(v) and v.ndim in (1, 2)), None)
        if f is None or x is None:
            return
        self._numerical_checked = True
        function = frame.f_code.co_name
        with _quiet():
            self.numerical = _probe_numerical(
                frame.f_globals.get(function) or _method(frame, function), f, x, frame, self
            )
        if self.numerical is not None:
            step = self.numerical.seconds_per_loss * 2 * self.numerical.coordinates
            if step > NUMERICAL_STEP_LIMIT:
                raise _Stop("numerical")

    # -- floating-point errors ---------------------------------------------------------------

    def float_error(self, kind: str, flag: int) -> None:
        if len(self.float_events) >= FLOAT_EVENTS_KEPT:
            return
        frame = sys._getframe(1)
        while frame is not None and not self.is_learner(frame.f_code.co_filename):
            frame = frame.f_back
        if frame is None:
            return
        file, line = frame.f_code.co_filename, frame.f_lineno
        self.float_events.append(
            FloatEvent(
                kind,
                file,
                line,
                frame.f_code.co_name,
                linecache.getline(file, line).strip(),
                len(self.steps) + 1,
            )
        )


# -- helpers -----------------------------------------------------------------------------------


@dataclass
class _Watch:
    """A target of an update site being run: an array of a recovered weight (name, the object,
    a copy before), or, before the network is recovered, any target (key: to remember its
    value after the statement; before: its value before, uncopied)."""

    target: sites.Target
    key: tuple | None
    suffix: str = ""
    name: str = ""
    obj: object = None
    before: np.ndarray | None = None


def _index(target: sites.Target, frame):
    """The key of a subscript target (`params[key]` with key = 'W1'), to tell its runs apart."""
    return None if target.index is None else repr(_evaluate(target.index, frame))


@contextlib.contextmanager
def _quiet():
    """The doctor's own arithmetic: no numpy error callbacks, no warnings."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def _evaluate(code, frame):
    try:
        return eval(code, frame.f_globals, frame.f_locals)
    except Exception:
        return None


def _is_float_array(value) -> bool:
    return isinstance(value, np.ndarray) and value.dtype.kind == "f" and value.size > 0


def _arrays_of(value, limit: int = 64):
    """(array, suffix) for an array, or the arrays in a list/tuple/dict of at most `limit`
    entries (one level)."""
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "f" and value.size:
            yield value, ""
    elif isinstance(value, (list, tuple)) and len(value) <= limit:
        for i, item in enumerate(value):
            if _is_float_array(item):
                yield item, f"[{i}]"
    elif isinstance(value, dict) and len(value) <= limit:
        for key, item in value.items():
            if _is_float_array(item):
                yield item, f"[{key!r}]"


def _sample_target(value, classes: int):
    """One sample's target as a label (int) or a vector of `classes` floats, or None."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value) if 0 <= value <= classes else None
    if isinstance(value, np.ndarray) and value.dtype.kind in "fiu":
        if value.size == classes:
            return value.astype(np.float64).reshape(-1)
        if value.size == 1 and value.dtype.kind in "iu":
            return int(value.reshape(-1)[0])
    return None


def _element(value, suffix: str):
    if not suffix:
        return value
    for obj, s in _arrays_of(value):
        if s == suffix:
            return obj
    return None


def _rate(site: sites.Site, frame) -> tuple[float | None, str | None]:
    found = {}
    for name in site.rate_names:
        if name.startswith("self."):
            owner = frame.f_locals.get("self")
            value = getattr(owner, name[5:], None)
        else:
            value = frame.f_locals.get(name, frame.f_globals.get(name))
        if isinstance(value, (float, np.floating)) and not isinstance(value, bool):
            found[name] = float(value)
    if not found:
        return None, None
    name = next((n for n in found if RATE_NAME.search(n)), next(iter(found)))
    return found[name], name


def _method(frame, name: str):
    owner = frame.f_locals.get("self")
    return getattr(owner, name, None)


def _predictions(namespace: Mapping, arrays: dict) -> dict[str, np.ndarray]:
    """`predict(x)` of each network object in the program's globals, on an input it fits."""
    out = {}
    for name, value in list(namespace.items()):
        predict = getattr(value, "predict", None)
        params = getattr(value, "params", None)
        if not callable(predict) or not isinstance(params, Mapping) or isinstance(value, type):
            continue
        sizes = {int(np.shape(p)[0]) for p in params.values() if np.ndim(p) == 2}
        for x_name, x in arrays.items():
            if x.ndim == 2 and x.shape[1] in sizes and x.shape[0] > 1:
                sample = x[:200]
                try:
                    y = np.asarray(predict(sample), dtype=np.float64)
                except Exception:
                    continue
                out[f"{name}.predict({x_name})"] = y
                out[f"{x_name}[:200]"] = sample
                break
    return out


def _probe_numerical(function, f, x: np.ndarray, frame, tracer: Tracer):
    """Run the learner's numerical gradient on a small corner of `x` (a view, so their loss
    sees the change) and compare it with central differences of their own loss there."""
    if not callable(function):
        return None
    corner = x[: NUMERICAL_PROBE[0], : NUMERICAL_PROBE[1]] if x.ndim == 2 else x[:6]
    saved = corner.copy()
    try:
        start = time.perf_counter()
        theirs = np.asarray(function(f, corner), dtype=np.float64)
        corner[...] = saved
        truth = np.zeros(corner.shape)
        h = 1e-5
        calls = 0
        for index in np.ndindex(corner.shape):
            original = corner[index]
            corner[index] = original + h
            plus = float(f(x))
            corner[index] = original - h
            minus = float(f(x))
            corner[index] = original
            truth[index] = (plus - minus) / (2 * h)
            calls += 2
        elapsed = time.perf_counter() - start
    except Exception:
        return None
    finally:
        corner[...] = saved
    if theirs.shape != truth.shape:
        theirs = np.resize(theirs, truth.shape)
    error = np.abs(theirs - truth) / np.maximum(np.abs(theirs) + np.abs(truth), 1e-8)
    seconds_per_loss = elapsed / (calls + 2 * corner.size)
    coordinates = _parameter_count(x, frame)
    batch, train_size = _batch_and_train_size(f, tracer, frame)
    return NumericalGradient(
        function=getattr(function, "__name__", "numerical_gradient"),
        file=frame.f_code.co_filename,
        line=frame.f_code.co_firstlineno,
        seconds_per_loss=seconds_per_loss,
        coordinates=coordinates,
        rms_theirs=float(np.sqrt(np.mean(theirs**2))),
        rms_truth=float(np.sqrt(np.mean(truth**2))),
        relative_error=float(error.max()),
        batch=batch,
        train_size=train_size,
    )


def _parameter_count(x: np.ndarray, frame) -> int:
    """Every weight the program differentiates each step: the dict `x` is part of, else x."""
    seen = frame.f_back
    while seen is not None:
        for value in list(seen.f_locals.values()):
            for candidate in (value, getattr(value, "__dict__", None)):
                if isinstance(candidate, dict):
                    for item in candidate.values():
                        if isinstance(item, dict) and any(v is x for v in item.values()):
                            return int(sum(np.size(v) for v in item.values()))
                        if item is x:
                            return int(
                                sum(np.size(v) for v in candidate.values() if _is_float_array(v))
                            )
        seen = seen.f_back
    return int(x.size)


def _batch_and_train_size(f, tracer: Tracer, frame) -> tuple[int, int]:
    """Samples the loss is taken over (from the loss function's closure) and in the training
    set (the largest array of the same width the program holds)."""
    cells = [c.cell_contents for c in (getattr(f, "__closure__", None) or ())]
    batch = next((c for c in cells if isinstance(c, np.ndarray) and c.ndim == 2), None)
    if batch is None:
        return 0, 0
    arrays = arrays_in_scope(tracer.learner_frames(frame))
    train = max(
        (a.shape[0] for a in arrays.values() if a.ndim == 2 and a.shape[1] == batch.shape[1]),
        default=batch.shape[0],
    )
    return int(batch.shape[0]), int(train)


# -- running the program ---------------------------------------------------------------------


def run(program: Path, args: list[str], *, steps: int, seconds: float, seed: int) -> Recording:
    """Run `program` with `args` under the tracer until it ends or the budget is spent."""
    if not program.is_file():
        raise ProgramError(
            _("cannot examine {path}: no such file; give the path of your training script.").format(
                path=program
            )
        )
    program = program.resolve()
    folder = program.parent
    tracer = Tracer(steps, seconds)
    output = io.StringIO()
    saved = _Saved.take()
    start = time.perf_counter()
    stopped, raised = "finished", None
    namespace: dict = {
        "__name__": "__main__",
        "__file__": str(program),
        "__builtins__": __builtins__,
    }
    try:
        os.chdir(folder)
        sys.path.insert(0, str(folder))
        sys.argv = [str(program), *args]
        sys.dont_write_bytecode = True
        os.environ["MPLBACKEND"] = "Agg"
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].switch_backend("agg")
        np.random.seed(seed)
        random.seed(seed)
        np.seterr(over="call", invalid="call", divide="call", under="ignore")
        np.seterrcall(tracer.float_error)
        with (
            contextlib.redirect_stdout(output),
            contextlib.redirect_stderr(output),
            warnings.catch_warnings(),
        ):
            warnings.simplefilter("ignore")
            sys.stdin = io.StringIO("")
            sys.settrace(tracer.global_trace)
            try:
                _execute(program, namespace)
            except _Stop as stop:
                stopped = stop.reason
            except SystemExit:
                pass
            except BaseException as exc:  # the learner's program raised: that is a finding
                if isinstance(exc, KeyboardInterrupt):
                    raise
                raised = _raised(exc, tracer)
            finally:
                sys.settrace(None)
        tracer._close()
        with contextlib.redirect_stdout(output), contextlib.redirect_stderr(output):
            tracer.identify_at_end(namespace)
    finally:
        saved.restore()
        _forget_modules(tracer, saved.modules)
    recording = Recording(
        program=program,
        steps=tracer.steps,
        model=tracer.model,
        float_events=tracer.float_events,
        numerical=tracer.numerical,
        raised=raised,
        stopped=stopped,
        output=output.getvalue()[-OUTPUT_KEPT:],
        seconds=time.perf_counter() - start,
        arrays=tracer.arrays,
        files=tuple(
            dict.fromkeys(
                [str(program)]
                + [f for f, mine in tracer._learner.items() if mine and os.path.isfile(f)]
            )
        ),
    )
    # what the program left open (an np.load never closed) is closed here, quietly, and not in
    # the middle of the caller's own work
    namespace.clear()
    tracer._pending.clear()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gc.collect()
    return recording


def _execute(program: Path, namespace: dict) -> None:
    """Run the file as `__main__` in `namespace` (kept, unlike runpy's, when the run is
    stopped midway: the doctor reads the program's globals afterwards)."""
    module = types.ModuleType("__main__")
    module.__dict__.update(namespace)
    previous = sys.modules.get("__main__")
    sys.modules["__main__"] = module
    try:
        code = compile(program.read_bytes(), str(program), "exec", dont_inherit=True)
        exec(code, module.__dict__)
    finally:
        namespace.update(module.__dict__)
        if previous is not None:
            sys.modules["__main__"] = previous


def _raised(exc: BaseException, tracer: Tracer) -> tuple[str, str, int, str]:
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if tracer.is_learner(f.filename)]
    text = f"{type(exc).__name__}: {exc}".strip().replace("\n", " ")[:300]
    if isinstance(exc, SyntaxError) and exc.filename:
        return text, exc.filename, int(exc.lineno or 0), "<module>"
    if not frames:
        return text, "", 0, ""
    last = frames[-1]
    return text, last.filename, int(last.lineno or 0), last.name


@dataclass
class _Saved:
    """What a program may change in this process, to put back."""

    cwd: str
    path: list[str]
    argv: list[str]
    modules: set[str]
    bytecode: bool
    mpl: str | None
    np_state: tuple
    random_state: object
    err: dict
    errcall: object
    stdin: object

    @classmethod
    def take(cls) -> _Saved:
        return cls(
            os.getcwd(),
            list(sys.path),
            list(sys.argv),
            set(sys.modules),
            sys.dont_write_bytecode,
            os.environ.get("MPLBACKEND"),
            np.random.get_state(),
            random.getstate(),
            np.geterr(),
            np.geterrcall(),
            sys.stdin,
        )

    def restore(self) -> None:
        os.chdir(self.cwd)
        sys.path[:] = self.path
        sys.argv[:] = self.argv
        sys.dont_write_bytecode = self.bytecode
        if self.mpl is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = self.mpl
        np.random.set_state(self.np_state)
        random.setstate(self.random_state)
        np.seterr(**self.err)
        np.seterrcall(self.errcall)
        sys.stdin = self.stdin
        if "matplotlib.pyplot" in sys.modules:
            sys.modules["matplotlib.pyplot"].close("all")


def _forget_modules(tracer: Tracer, before: set[str]) -> None:
    """Unload the learner's own modules, so that another program's `two_layer_net` is its own."""
    for name in set(sys.modules) - before:
        file = getattr(sys.modules[name], "__file__", None)
        if file and tracer.is_learner(file):
            del sys.modules[name]

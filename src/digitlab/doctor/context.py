"""What the checks share: the network under examination, the batch, and calls into its code.

Every call into the learner's code goes through `Context.call`: an exception becomes a
`network-raised` finding (once per method) instead of a crash, and the warnings numpy would print
(overflow in exp, ...) are silenced, since what they point at is judged by the checks.
"""

from __future__ import annotations

import traceback
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitlab.doctor.anatomy import Anatomy
from digitlab.doctor.findings import ERROR, Finding, make_finding

#: characters of an exception's text kept in a finding
EXCEPTION_TEXT_LIMIT = 300


class _Failed:
    """The result of a call that raised (falsy, so `if result is FAILED` reads plainly)."""

    def __bool__(self) -> bool:
        return False

    def __repr__(self) -> str:
        return "FAILED"


FAILED = _Failed()


@dataclass
class Context:
    network: object
    x: np.ndarray
    t: np.ndarray
    learning_rate: float | None
    lang: str
    seed: int = 0
    anatomy: Anatomy | None = None
    #: predict(x) as a float64 array, or None (no predict, or it failed)
    output: np.ndarray | None = None
    #: loss(x, t) as a float, or None
    loss: float | None = None
    #: gradient(x, t) with the params' keys, or None
    grads: dict[str, np.ndarray] | None = None
    #: number of classes: predict's columns, else the last layer's size, else None
    classes: int | None = None
    findings: list[Finding] = field(default_factory=list)
    #: checks that found a problem making later checks meaningless (e.g. "gradient-wrong")
    flags: set[str] = field(default_factory=set)

    @property
    def params(self) -> dict:
        return self.network.params

    @property
    def samples(self) -> int:
        return int(np.shape(self.x)[0])

    def add(self, code: str, severity: str, subject: str, variant: str = "", **evidence) -> None:
        self.findings.append(make_finding(code, severity, subject, variant, self.lang, **evidence))

    def call(self, method: str, *args, report: bool = True):
        """network.<method>(*args), or FAILED (with a network-raised finding if `report`)."""
        function = getattr(self.network, method)
        try:
            with warnings.catch_warnings(), np.errstate(all="ignore"):
                warnings.simplefilter("ignore")
                return function(*args)
        except Exception as exc:  # the learner's code may raise anything: that is the finding
            if report and not any(
                f.code == "network-raised" and f.subject == f"{method}()" for f in self.findings
            ):
                self.add(
                    "network-raised",
                    ERROR,
                    f"{method}()",
                    error=_exception_text(exc),
                    where=_where(exc),
                )
            return FAILED


def _exception_text(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().replace("\n", " ")
    return text if len(text) <= EXCEPTION_TEXT_LIMIT else text[: EXCEPTION_TEXT_LIMIT - 1] + "…"


def _where(exc: BaseException) -> str:
    """file:line of the innermost frame outside numpy and the doctor (the learner's line)."""
    frames = traceback.extract_tb(exc.__traceback__)
    for frame in reversed(frames):
        path = Path(frame.filename).resolve()
        if "numpy" in path.parts or path.is_relative_to(_DOCTOR_DIR):
            continue
        return f"{path.name}:{frame.lineno}"
    return "?"


_DOCTOR_DIR = Path(__file__).resolve().parent


def as_array(value) -> np.ndarray | None:
    """value as a float64 array, or None where it is not numeric."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array


def rms(array: np.ndarray) -> float:
    """Root mean square, as one dot product in the array's own float type (no float64 copy of
    a float32 array: the training watcher calls this on every weight matrix)."""
    values = np.asarray(array)
    if values.dtype.kind != "f":
        values = values.astype(np.float64)
    if values.size == 0:
        return 0.0
    flat = values.ravel()
    with np.errstate(all="ignore"):
        return float(np.sqrt(float(flat @ flat) / flat.size))

"""What the doctor found: `Finding`s, gathered in a `Report`, rendered in English or Chinese.

A finding keeps its message as the English template and the numbers that fill it, so the same
finding reads in either language (`finding.message`, `finding.in_language("zh")`): the text is
made when it is read, in the finding's language, and nothing global is switched.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from digitlab import atomic
from digitlab.display import Displayed
from digitlab.doctor.messages import MESSAGES
from digitlab.i18n import N_, current_language, translate

ERROR = "error"
WARNING = "warning"
INFO = "info"
#: most severe first
SEVERITIES = (ERROR, WARNING, INFO)

SEVERITY_LABELS = {ERROR: N_("error"), WARNING: N_("warning"), INFO: N_("info")}


@dataclass(frozen=True)
class Finding:
    """One thing the doctor found.

    code: stable identifier (e.g. "init-too-large"), the same in every language;
    severity: "error" (the network cannot learn, or learns wrongly), "warning" (it learns badly),
    "info" (worth knowing); subject: the parameter, layer or value concerned ("W1", "layer 1",
    "x", "loss"); evidence: the numbers behind it; variant: which of the code's messages.
    """

    code: str
    severity: str
    subject: str
    evidence: Mapping[str, float | int | str] = field(default_factory=dict)
    variant: str = ""
    lang: str = "en"
    #: where in the learner's program: the file's name and the line (None where unknown)
    file: str | None = None
    line: int | None = None
    #: the finding this one follows from, as "code — subject" (empty for a root cause)
    cause: str = ""

    @property
    def key(self) -> str:
        return f"{self.code}/{self.variant}" if self.variant else self.code

    @property
    def message(self) -> str:
        """What is wrong, with the evidence, in plain words (in the finding's language)."""
        return self._render(MESSAGES[self.key][0])

    @property
    def fix(self) -> str:
        """What to do about it."""
        return self._render(MESSAGES[self.key][1])

    def in_language(self, lang: str) -> Finding:
        return replace(self, lang=lang)

    def to_dict(self) -> dict:
        """Plain JSON data: code, severity, subject, message, fix (in the finding's language)
        and evidence; the format of a run folder's findings.json (see digitlab.report)."""
        return {
            "code": self.code,
            "severity": self.severity,
            "subject": self.subject,
            "file": self.file,
            "line": self.line,
            "message": self.message,
            "fix": self.fix,
            "evidence": dict(self.evidence),
        }

    @property
    def place(self) -> str:
        """ "file:line", "file", or "" where unknown."""
        if self.file is None:
            return ""
        return self.file if self.line is None else f"{self.file}:{self.line}"

    def _render(self, template: str) -> str:
        return translate(template, self.lang).format(subject=self.subject, **self.evidence)

    def parts(self) -> dict[str, str]:
        """The pieces every rendering shows, in the finding's language: "label" (the severity),
        "where" (subject and place), "cause" ("" for a root cause), "message", "evidence" and
        "fix" (each with its heading)."""
        evidence = ", ".join(f"{name}={_number(value)}" for name, value in self.evidence.items())
        cause = N_("follows from: {cause}")
        return {
            "label": translate(SEVERITY_LABELS[self.severity], self.lang),
            "where": self.subject + (f" ({self.place})" if self.place else ""),
            "cause": translate(cause, self.lang).format(cause=self.cause) if self.cause else "",
            "message": self.message,
            "evidence": translate(N_("evidence: {evidence}"), self.lang).format(evidence=evidence),
            "fix": translate(N_("fix: {fix}"), self.lang).format(fix=self.fix),
        }

    def block(self) -> str:
        """The finding as a text block: headline, message, evidence, fix."""
        parts = self.parts()
        lines = [f"[{parts['label']}] {self.code} — {parts['where']}"]
        if parts["cause"]:
            lines.append("  " + parts["cause"])
        lines += ["  " + parts[key] for key in ("message", "evidence", "fix")]
        return "\n".join(lines)

    def __str__(self) -> str:
        return f"{self.code} ({self.severity}, {self.subject}): {self.message}"


@dataclass(frozen=True)
class Report(Displayed):
    """The findings of one examination, in the order to fix them (see `sort_findings`).

    network: what was examined (its repr or class name); samples: the batch size; seconds: how
    long the examination took; lang: the language the findings are rendered in; steps: the
    learner's weight updates watched (a program run by the doctor; 0 for one batch examined).
    """

    network: str
    findings: tuple[Finding, ...]
    samples: int
    seconds: float
    lang: str = "en"
    steps: int = 0

    @property
    def codes(self) -> frozenset[str]:
        """The set of the findings' codes."""
        return frozenset(f.code for f in self.findings)

    @property
    def errors(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == ERROR]

    @property
    def ok(self) -> bool:
        """True when nothing is an error (warnings and information may remain)."""
        return not self.errors

    def to_dicts(self) -> list[dict]:
        """The findings as plain JSON data (Finding.to_dict), first to fix first."""
        return [finding.to_dict() for finding in self.findings]

    def to_json_data(self, target: str) -> dict:
        """What `digitlab doctor --json` prints: {"target", "steps_observed", "findings"}."""
        return {"target": target, "steps_observed": self.steps, "findings": self.to_dicts()}

    def by_code(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    def severity_of(self, code: str) -> str | None:
        """The most severe severity among the findings with this code (None: none)."""
        found = {f.severity for f in self.by_code(code)}
        return next((s for s in SEVERITIES if s in found), None)

    def in_language(self, lang: str) -> Report:
        findings = tuple(f.in_language(lang) for f in self.findings)
        return replace(self, findings=findings, lang=lang)

    def __iter__(self) -> Iterator[Finding]:
        return iter(self.findings)

    def __len__(self) -> int:
        return len(self.findings)

    def summary(self) -> str:
        """One line: what was examined and how many findings of each severity."""
        counts = {s: sum(f.severity == s for f in self.findings) for s in SEVERITIES}
        return translate(
            N_(
                "doctor: {network}, {samples} samples: {errors} error(s), {warnings} "
                "warning(s), {infos} note(s) ({seconds:.1f} s)"
            ),
            self.lang,
        ).format(
            network=self.network,
            samples=self.samples,
            errors=counts[ERROR],
            warnings=counts[WARNING],
            infos=counts[INFO],
            seconds=self.seconds,
        )

    def render(self) -> str:
        """The whole report as text: one block per finding, most severe first, then a summary."""
        blocks = [f.block() for f in self.findings]
        if not self.findings:
            blocks.append(translate(N_("No problems found."), self.lang))
        return "\n\n".join([*blocks, self.summary()])

    def __str__(self) -> str:
        return self.render()

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.render())


def save_findings(findings: Iterable[Finding], path: str | Path) -> None:
    """Write findings as a JSON list of Finding.to_dict() (a run folder's findings.json)."""
    data = [finding.to_dict() for finding in findings]
    atomic.write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


#: the order to fix things in: the data, then the arithmetic of learning (the update, the loss,
#: the gradients, the output), then the starting point (initialization), then what follows from
#: those (saturation, vanishing or exploding gradients, a learning rate that cannot help, NaN)
STAGES: dict[str, int] = {
    "input-not-normalized": 0,
    "input-layout": 0,
    "labels-invalid": 0,
    "conv-output-size": 1,
    "conv-wrong": 1,
    "pooling-wrong": 1,
    "update-sign-flipped": 1,
    "loss-not-averaged": 1,
    "gradient-sign-flipped": 2,
    "gradient-mismatch": 2,
    "numerical-gradient-only": 2,
    "softmax-across-batch": 1,
    "output-not-probability": 3,
    "init-not-centered": 4,
    "init-too-large": 4,
    "init-too-small": 4,
    "activations-saturated": 5,
    "dead-units": 5,
    "vanishing-gradient": 6,
    "exploding-gradient": 6,
    "learning-rate-too-high": 7,
    "learning-rate-too-low": 7,
    "loss-stalled": 8,
    "non-finite": 8,
    "network-raised": 9,
    "network-changed-params": 9,
    "network-not-recovered": 9,
}

#: a consequence and the causes it may follow from, in the order they are looked for
CONSEQUENCES: dict[str, tuple[str, ...]] = {
    # judged on the weights before the first update: the start, not the steps, saturates them
    "activations-saturated": (
        "input-not-normalized",
        "init-too-large",
        "init-not-centered",
        "loss-not-averaged",
    ),
    "dead-units": ("init-too-large", "init-not-centered", "loss-not-averaged"),
    "vanishing-gradient": (
        "activations-saturated",
        "dead-units",
        "input-not-normalized",
        "init-too-small",
    ),
    "exploding-gradient": ("loss-not-averaged", "init-too-large", "input-not-normalized"),
    "learning-rate-too-high": (
        "update-sign-flipped",
        "loss-not-averaged",
        "gradient-mismatch",
        "input-not-normalized",
        "init-too-large",
    ),
    # an update judged against the wrong targets or a softmax its backprop does not follow
    "update-sign-flipped": ("labels-invalid",),
    "gradient-mismatch": ("labels-invalid", "softmax-across-batch", "pooling-wrong"),
    "network-raised": ("input-layout", "conv-output-size"),
    "loss-stalled": (
        "update-sign-flipped",
        "activations-saturated",
        "vanishing-gradient",
        "gradient-mismatch",
        "dead-units",
    ),
    "non-finite": (
        "loss-not-averaged",
        "update-sign-flipped",
        "exploding-gradient",
        "learning-rate-too-high",
        "init-too-large",
        "init-not-centered",
        "input-not-normalized",
        "activations-saturated",
    ),
}


def sort_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    """In the order to fix them: a root cause before its consequences (STAGES), the more severe
    first within a stage; a consequence names the finding it follows from (`cause`)."""
    ordered = sorted(findings, key=lambda f: (STAGES.get(f.code, 9), SEVERITIES.index(f.severity)))
    present = {}
    for finding in ordered:
        present.setdefault(finding.code, finding)
    linked = []
    for finding in ordered:
        if not finding.cause:
            cause = next(
                (present[c] for c in CONSEQUENCES.get(finding.code, ()) if c in present), None
            )
            if cause is not None:
                finding = replace(finding, cause=f"{cause.code} — {cause.subject}")
        linked.append(finding)
    return tuple(linked)


def make_finding(
    code: str,
    severity: str,
    subject: str,
    variant: str = "",
    lang: str | None = None,
    *,
    file: str | None = None,
    line: int | None = None,
    **evidence,
) -> Finding:
    """A Finding whose numbers are plain Python numbers (rounded for reading, not for judging)."""
    clean = {name: _plain(value) for name, value in evidence.items()}
    key = f"{code}/{variant}" if variant else code
    if key not in MESSAGES:
        raise KeyError(f"no message for finding {key!r}")
    return Finding(code, severity, subject, clean, variant, lang or current_language(), file, line)


def _plain(value):
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int)) or (hasattr(value, "dtype") and value.dtype.kind in "iub"):
        return int(value)
    return float(value)


def _number(value) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10_000 else str(value)
    return f"{value:.3g}"

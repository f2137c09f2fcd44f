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
            "message": self.message,
            "fix": self.fix,
            "evidence": dict(self.evidence),
        }

    def _render(self, template: str) -> str:
        return translate(template, self.lang).format(subject=self.subject, **self.evidence)

    def block(self) -> str:
        """The finding as a text block: headline, message, evidence, fix."""
        label = translate(SEVERITY_LABELS[self.severity], self.lang)
        evidence = ", ".join(f"{name}={_number(value)}" for name, value in self.evidence.items())
        lines = [
            f"[{label}] {self.code} — {self.subject}",
            "  " + self.message,
            "  " + translate(N_("evidence: {evidence}"), self.lang).format(evidence=evidence),
            "  " + translate(N_("fix: {fix}"), self.lang).format(fix=self.fix),
        ]
        return "\n".join(lines)

    def __str__(self) -> str:
        return f"{self.code} ({self.severity}, {self.subject}): {self.message}"


@dataclass(frozen=True)
class Report:
    """The findings of one examination, most severe first.

    network: what was examined (its repr or class name); samples: the batch size; seconds: how
    long the examination took; lang: the language the findings are rendered in.
    """

    network: str
    findings: tuple[Finding, ...]
    samples: int
    seconds: float
    lang: str = "en"

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
        """The findings as plain JSON data (Finding.to_dict), most severe first."""
        return [finding.to_dict() for finding in self.findings]

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


def save_findings(findings: Iterable[Finding], path: str | Path) -> None:
    """Write findings as a JSON list of Finding.to_dict() (a run folder's findings.json)."""
    data = [finding.to_dict() for finding in findings]
    atomic.write_text(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def sort_findings(findings: list[Finding]) -> tuple[Finding, ...]:
    """Most severe first; within a severity, in the order the checks found them."""
    return tuple(sorted(findings, key=lambda f: SEVERITIES.index(f.severity)))


def make_finding(
    code: str, severity: str, subject: str, variant: str = "", lang: str | None = None, **evidence
) -> Finding:
    """A Finding whose numbers are plain Python numbers (rounded for reading, not for judging)."""
    clean = {name: _plain(value) for name, value in evidence.items()}
    key = f"{code}/{variant}" if variant else code
    if key not in MESSAGES:
        raise KeyError(f"no message for finding {key!r}")
    return Finding(code, severity, subject, clean, variant, lang or current_language())


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

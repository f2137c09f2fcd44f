"""The doctor for a learner's whole program: `digitlab doctor PROGRAM.py [-- ARGS...]`.

    from digitlab.doctor.program import examine_program
    report = examine_program("train.py", ["--epochs", "1"], steps=30, seconds=60)
    print(report)

The program runs as `python PROGRAM.py ARGS` would (its folder the working directory and first
on sys.path), unchanged, for at most `steps` weight updates or `seconds`; the doctor watches its
data, finds its weights wherever they live, recovers the network from the arrays it computes,
and judges every update it applies. Findings use the learner's names and file:line.
"""

from __future__ import annotations

import time
from pathlib import Path

from digitlab.doctor.findings import Report, sort_findings
from digitlab.doctor.program.analysis import program_findings
from digitlab.doctor.program.tracer import ProgramError, run
from digitlab.i18n import LANGUAGES, current_language

#: weight updates watched by default: the bugs of the learners' stories all show by then
DEFAULT_STEPS = 30
#: seconds a program may run by default
DEFAULT_SECONDS = 60.0


def examine_program(
    path: str | Path,
    args: list[str] | tuple[str, ...] = (),
    *,
    steps: int = DEFAULT_STEPS,
    seconds: float = DEFAULT_SECONDS,
    lang: str | None = None,
    seed: int = 0,
) -> Report:
    """Run the learner's program under watch and report what keeps its network from learning.

    path: the program (a .py file); args: its command-line arguments; steps / seconds: the
    budget; lang: "en" or "zh" (None: the current language); seed: of numpy's and random's
    global generators before the program starts (the learners' programs rarely seed them).
    """
    lang = lang or current_language()
    if lang not in LANGUAGES:
        raise ValueError(f"lang={lang!r} is not one of {', '.join(LANGUAGES)}")
    program = Path(path)
    start = time.perf_counter()
    recording = run(program, list(args), steps=steps, seconds=seconds, seed=seed)
    findings, network, samples = program_findings(recording, lang=lang, seed=seed)
    return Report(
        f"{program.name}: {network}",
        sort_findings(findings),
        samples,
        time.perf_counter() - start,
        lang,
        steps=len(recording.steps),
    )


__all__ = ["DEFAULT_SECONDS", "DEFAULT_STEPS", "ProgramError", "examine_program"]

"""How long `digitlab doctor PROGRAM.py` takes on the gallery of learner programs.

Each program of tests/program_gallery.py (the five seed stories, the variants with planted bugs,
the correct programs) is examined in a fresh process, as `digitlab doctor` runs it, for the
default budget of 30 weight updates; beside it, the same program run plainly (`python
PROGRAM.py`, to the end, or cut at the same number of seconds as the doctor's budget), so the
doctor's cost reads as a ratio on the same machine at the same moment.

Prints a table and writes benchmarks/results/doctor_programs.json.

    python benchmarks/doctor_programs.py [--cases story000,story001] [--steps 30]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from program_gallery import CASES, write_data  # noqa: E402

MNIST = ROOT.parent / "shared" / "data" / "mnist-10k"
#: seconds a plain run may take before it is cut (some programs train for minutes)
PLAIN_LIMIT = 60


def _run(args: list[str], cwd: Path, limit: float) -> tuple[float, int | None]:
    env = {
        **os.environ,
        "OPENBLAS_NUM_THREADS": "1",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    start = time.perf_counter()
    try:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=limit)
        code = done.returncode
    except subprocess.TimeoutExpired:
        code = None
    return time.perf_counter() - start, code


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="", help="comma-separated case names (default: all)")
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    chosen = set(filter(None, args.cases.split(",")))
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        data = write_data(folder, MNIST)
        for case in CASES:
            if chosen and case.name not in chosen:
                continue
            argv = case.argv(MNIST, data)
            doctor_s, doctor_code = _run(
                [sys.executable, "-m", "digitlab", "doctor", str(case.path), "--json",
                 "--steps", str(args.steps), "--", *argv],
                case.directory,
                300,
            )  # fmt: skip
            plain_s, plain_code = _run(
                [sys.executable, str(case.path), *argv], case.path.parent, PLAIN_LIMIT
            )
            rows.append(
                {
                    "case": case.name,
                    "kind": "story" if case.story else ("correct" if case.correct else "variant"),
                    "doctor_s": round(doctor_s, 2),
                    "doctor_exit": doctor_code,
                    "plain_s": round(plain_s, 2),
                    "plain_finished": plain_code is not None,
                }
            )
            row = rows[-1]
            plain = f"{row['plain_s']:.1f}" + ("" if row["plain_finished"] else "+ (cut)")
            print(f"{row['case']:22s} {row['kind']:8s} doctor {row['doctor_s']:6.1f} s   "
                  f"plain run {plain} s", flush=True)  # fmt: skip
    times = sorted(r["doctor_s"] for r in rows)
    summary = {
        "programs": len(rows),
        "median_s": times[len(times) // 2] if times else None,
        "max_s": times[-1] if times else None,
        "machine": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "steps": args.steps,
    }
    print(f"\n{summary['programs']} programs: median {summary['median_s']} s, "
          f"slowest {summary['max_s']} s")  # fmt: skip
    out = ROOT / "benchmarks" / "results" / "doctor_programs.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"summary": summary, "rows": rows}, indent=1) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""What Optuna's TPE sampler and median pruning buy over the book's random search, and what
`--jobs 2` buys on two cores: `digitlab search` run as a user runs it, one process per search.

    python benchmarks/search_quality.py                     # budget 60 s, seeds 0 1 2
    python benchmarks/search_quality.py --budget 30 --seeds 0

1. Quality in a fixed time: for each seed, `digitlab search --time-limit BUDGET` with
   `--sampler random --pruner none` (the book's way) and with `--sampler tpe --pruner median`,
   on the default search space, 5 epochs a trial, 10,000 mnist-10k training images (2,000 held
   out): the best validation accuracy each reached, and how many trials each ran.
2. Processes: the same 24 trials with `--jobs 1` and `--jobs 2` (a study file shared by two
   processes of one BLAS thread each); the wall clock of each and their ratio.

Prints a table and writes benchmarks/results/search_quality.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from epoch_speed import write_report

ROOT = Path(__file__).resolve().parents[1]
COMMON = ["-m", "digitlab", "search", "--no-progress", "--epochs", "5", "--subset", "10000"]
WAYS = {
    "random, no pruning": ["--sampler", "random", "--pruner", "none"],
    "TPE, median pruning": ["--sampler", "tpe", "--pruner", "median"],
}


def run_search(arguments: list[str], out: Path) -> tuple[dict, float]:
    """One `digitlab search` in a process of its own; its search.json and its wall clock."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, *COMMON, *arguments, "--out", str(out)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    return json.loads((out / "search.json").read_text()), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=60.0, help="seconds per search")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs-trials", type=int, default=24)
    parser.add_argument(
        "--json", default=str(ROOT / "benchmarks" / "results" / "search_quality.json")
    )
    args = parser.parse_args()

    quality = {way: [] for way in WAYS}
    with tempfile.TemporaryDirectory() as folder:
        for seed in args.seeds:
            for way, options in WAYS.items():
                budget = ["--trials", "1000", "--time-limit", str(args.budget)]
                out = Path(folder) / f"{way}-{seed}".replace(" ", "").replace(",", "-")
                saved, seconds = run_search([*options, *budget, "--seed", str(seed)], out)
                best = max(trial["val_acc"] for trial in saved["trials"])
                pruned = sum(
                    1 for t in saved["trials"] if (t["stopped"] or "").startswith("pruned")
                )
                row = {"seed": seed, "best_val_acc": best, "trials": len(saved["trials"])}
                quality[way].append({**row, "pruned": pruned, "seconds": seconds})
                print(f"seed {seed}  {way:22} best {best:.2%}  trials {row['trials']:3d}  "
                      f"pruned {pruned:3d}  {seconds:5.1f} s", flush=True)  # fmt: skip
        jobs = {}
        for count in (1, 2):
            out = Path(folder) / f"jobs-{count}"
            trials = ["--trials", str(args.jobs_trials), "--seed", "0", "--jobs", str(count)]
            _saved, seconds = run_search(trials, out)
            jobs[count] = seconds
    print()
    print(f"best validation accuracy in {args.budget:g} s (mnist-10k, 5 epochs a trial)")
    print(f"{'':22} " + " ".join(f"seed {seed:<5}" for seed in args.seeds) + "   mean   trials")
    for way, rows in quality.items():
        cells = " ".join(f"{row['best_val_acc']:10.2%}" for row in rows)
        mean = statistics.mean(row["best_val_acc"] for row in rows)
        count = statistics.mean(row["trials"] for row in rows)
        print(f"{way:22} {cells} {mean:7.2%} {count:7.1f}")
    speedup = jobs[1] / jobs[2]
    print(
        f"\n{args.jobs_trials} trials: --jobs 1 {jobs[1]:.1f} s, --jobs 2 {jobs[2]:.1f} s, "
        f"speed-up {speedup:.2f}x"
    )
    write_report(
        args.json,
        {
            "benchmark": "search_quality",
            "budget_s": args.budget,
            "quality": quality,
            "jobs_seconds": jobs,
            "jobs_speedup": speedup,
        },
    )


if __name__ == "__main__":
    main()

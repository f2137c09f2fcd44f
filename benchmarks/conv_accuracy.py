"""Test accuracy of the conv nets against issue 13's bars, seed by seed, as a user runs them:
each configuration is one command (`digitlab train`, or the example script that trains a
ConvNet of its own design), run as a fresh process per seed.

    python benchmarks/conv_accuracy.py                 # every configuration, seeds 0 1 2
    python benchmarks/conv_accuracy.py --config fashion-mnist --seeds 0
    python benchmarks/conv_accuracy.py --jobs 2        # two runs at once (one BLAS thread each)

The bars: mnist-10k (the 10,000 shipped training images, the official test set) at least 98.8%,
Fashion-MNIST (60,000 / 10,000) at least 92.5%, for every seed. The accuracy is the network's
after its last epoch (no epoch picked by the test set). The time is the command's wall clock:
data loading, training, the evaluation after every epoch and writing the run folder. Also
recorded from each run's history: the seconds of training (with evaluation) until the test
accuracy first reached the time-to-accuracy mark (97% on mnist-10k, 89% on Fashion-MNIST).
Prints a table and writes benchmarks/results/conv_accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from epoch_speed import write_report

ROOT = Path(__file__).resolve().parents[1]
FASHION = str(ROOT.parent / "shared" / "data" / "fashion-mnist")
#: name -> (the data set's bar, the time-to-accuracy mark, the command's arguments after
#: `python`: digitlab train for mnist-10k; for Fashion-MNIST the example that trains a ConvNet
#: of two convolution blocks with Trainer.fit, where the book's SimpleConvNet levels off below
#: the bar)
CONFIGS = {
    "mnist-10k": (
        0.988,
        0.97,
        "-m digitlab train --net simple-conv --hidden 256 --optimizer adam --augment "
        "--schedule cosine --epochs 30 --no-report --no-progress",
    ),
    "fashion-mnist": (0.925, 0.89, f"examples/fashion_convnet.py --data {FASHION} --epochs 15"),
}


def run(name: str, seed: int, out: Path) -> dict:
    """One command of configuration `name` with `seed`, timed; its history's figures."""
    bar, mark, arguments = CONFIGS[name]
    folder = out / f"{name}-{seed}"
    command = [sys.executable, *arguments.split(), "--seed", str(seed), "--out", str(folder)]
    env = {**os.environ, "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS", "1")}
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, env=env, cwd=ROOT)
    seconds = time.perf_counter() - start
    history = json.loads((folder / "history.json").read_text())
    elapsed, reached = 0.0, None
    for epoch_seconds, accuracy in zip(history["seconds"], history["test_acc"], strict=True):
        elapsed += epoch_seconds
        if accuracy >= mark and reached is None:
            reached = elapsed
    shown = arguments.replace("-m digitlab", "digitlab", 1).replace(FASHION, "fashion-mnist")
    return {
        "config": name,
        "seed": seed,
        "command": ("" if shown.startswith("digitlab") else "python ") + f"{shown} --seed {seed}",
        "test_accuracy": history["test_acc"][-1],
        "bar": bar,
        "met": history["test_acc"][-1] >= bar,
        "seconds": seconds,
        "mark": mark,
        "training_seconds_to_mark": reached,
        "epochs": len(history["test_acc"]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", nargs="+", choices=CONFIGS, default=list(CONFIGS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--jobs", type=int, default=1, help="runs at once")
    parser.add_argument(
        "--json", default=str(ROOT / "benchmarks" / "results" / "conv_accuracy.json")
    )
    args = parser.parse_args()
    jobs = [(name, seed) for name in args.config for seed in args.seeds]
    with (
        tempfile.TemporaryDirectory(prefix="digitlab-conv-") as tmp,
        ThreadPoolExecutor(args.jobs) as pool,
    ):
        rows = list(pool.map(lambda job: run(*job, Path(tmp)), jobs))
    print(f"{'data':14} {'seed':>4} {'test accuracy':>13} {'bar':>6} {'wall (s)':>9}  command")
    for row in rows:
        met = "met" if row["met"] else "MISSED"
        print(
            f"{row['config']:14} {row['seed']:4} {row['test_accuracy']:13.2%} {met:>6} "
            f"{row['seconds']:9.0f}  {row['command']}"
        )
    for name in args.config:
        accuracies = [r["test_accuracy"] for r in rows if r["config"] == name]
        print(
            f"{name}: median {statistics.median(accuracies):.2%}, lowest {min(accuracies):.2%}"
            f" (bar {CONFIGS[name][0]:.1%})"
        )
    report = {"benchmark": "conv_accuracy", "results": rows}
    write_report(args.json, report)


if __name__ == "__main__":
    main()

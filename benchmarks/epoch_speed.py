"""One training epoch of 784-100-10 (batch 100, SGD) on the 60,000 Fashion-MNIST images:
digitlab vs. a plain book-style NumPy implementation, side by side in one process.

Both start from the same weights and see the same batches; rounds are interleaved so that a
noisy, shared machine slows both alike. Prints a table and writes JSON.

    python benchmarks/epoch_speed.py [--data ../shared/data/fashion-mnist] [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import numpy as np

import digitlab
from book_style import BookTwoLayerNet, train_epoch
from digitlab import SGD, Trainer, TwoLayerNet
from digitlab.datasets import load_dataset
from digitlab.run import to_inputs

ROOT = Path(__file__).resolve().parents[1]


def time_digitlab(x, t, dtype, seed) -> float:
    net = TwoLayerNet(784, 100, 10, seed=seed, dtype=dtype)
    trainer = Trainer(net, SGD(0.1), epochs=1, batch_size=100, seed=seed, progress=False, log=None)
    start = time.perf_counter()
    # Includes the train-accuracy pass fit makes after each epoch, which the book's loop lacks:
    # the comparison is, if anything, unfair to digitlab.
    trainer.fit(x, t)
    return time.perf_counter() - start


def time_book(x, t, dtype, seed) -> float:
    ref = TwoLayerNet(784, 100, 10, seed=seed, dtype=dtype)
    net = BookTwoLayerNet(*(ref.params[k].copy() for k in ("W1", "b1", "W2", "b2")))
    order = np.random.default_rng(seed).permutation(len(x))
    start = time.perf_counter()
    train_epoch(net, x, t, order, 100, 0.1)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fashion-mnist"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "epoch_speed.json"))
    args = parser.parse_args()

    data = load_dataset(args.data, progress=False)
    t = data.t_train.astype(np.intp)
    rows = []
    for dtype in ("float64", "float32"):
        x = to_inputs(data.x_train, dtype)
        times = {"digitlab": [], "book-style": []}
        for r in range(args.rounds):
            times["digitlab"].append(time_digitlab(x, t, dtype, r))
            times["book-style"].append(time_book(x, t, dtype, r))
        ours, book = times["digitlab"], times["book-style"]
        rows.append(
            {
                "dtype": dtype,
                "digitlab_min_s": min(ours),
                "digitlab_median_s": statistics.median(ours),
                "book_min_s": min(book),
                "book_median_s": statistics.median(book),
                "ratio_min": min(ours) / min(book),
                "ratio_median": statistics.median(ours) / statistics.median(book),
            }
        )

    print(f"one epoch, 784-100-10, batch 100, {len(x):,} images, {args.rounds} rounds")
    print(
        f"{'dtype':8} {'digitlab min/med (s)':>22} {'book-style min/med (s)':>24} "
        f"{'ratio min/med':>15}"
    )
    for row in rows:
        print(
            f"{row['dtype']:8} {row['digitlab_min_s']:>10.3f} / {row['digitlab_median_s']:<9.3f}"
            f" {row['book_min_s']:>11.3f} / {row['book_median_s']:<10.3f}"
            f" {row['ratio_min']:>6.2f} / {row['ratio_median']:<6.2f}"
        )
    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "epoch_speed",
                "digitlab_version": digitlab.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "rounds": args.rounds,
                "results": rows,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

"""The full numerical gradient of 784-100-10 (batch 100, float64) and of the book's
SimpleConvNet (batch 10): the book's loop vs. digitlab.

The book's loop runs two full forward passes per parameter; it is timed on a random sample of
parameters and extrapolated to all 79,510 (stated as such in the output). digitlab's fast path
computes the same central differences for every parameter. Also timed: backprop for the same
batch, and the sampled gradient check of a network that is not digitlab's (the book-style net
in book_style.py). For SimpleConvNet (433,890 parameters, 10 images) the book's loop is timed on
`--conv-loop-sample` parameters and extrapolated. Prints a table and writes JSON.

    python benchmarks/numerical_gradient.py [--loop-sample 2000] [--rounds 3]
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
from book_style import BookTwoLayerNet
from digitlab import SimpleConvNet, TwoLayerNet
from digitlab.datasets import load_dataset, to_inputs
from digitlab.gradients import check, sampled_numerical_gradient

ROOT = Path(__file__).resolve().parents[1]


def timed(fn, rounds: int) -> list[float]:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return times


def book_loop_seconds(net, x, t, sample: int, rounds: int) -> tuple[list[float], int]:
    """The book's loop timed on about `sample` parameters, spread over the tensors by size,
    and extrapolated to all of them. Returns (seconds per round, parameters timed)."""
    n_params = sum(p.size for p in net.params.values())
    counts = {k: max(1, round(sample * p.size / n_params)) for k, p in net.params.items()}
    rng = np.random.default_rng(0)

    def run():
        for name, param in net.params.items():
            sampled_numerical_gradient(lambda _: net.loss(x, t), param, counts[name], rng)

    timed_on = sum(counts.values())
    return [s * n_params / timed_on for s in timed(run, rounds)], timed_on


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--loop-sample", type=int, default=2000, help="parameters the book's loop is timed on"
    )
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--conv-loop-sample", type=int, default=300, help="SimpleConvNet parameters timed"
    )
    parser.add_argument("--json", default=str(ROOT / "benchmarks/results/numerical_gradient.json"))
    args = parser.parse_args()

    data = load_dataset("mnist-10k")
    x = to_inputs(data.x_train[:100], np.float64)
    t = data.t_train[:100].astype(np.intp)
    net = TwoLayerNet(784, 100, 10, weight_init_std="auto", seed=0)
    n_params = sum(p.size for p in net.params.values())

    loop, sampled = book_loop_seconds(net, x, t, args.loop_sample, args.rounds)
    fast = timed(lambda: net.numerical_gradient(x, t), args.rounds)
    backprop = timed(lambda: net.gradient(x, t), args.rounds * 10)

    # The book's chapter 4 script trains 784-50-10 by numerical_gradient for 10,000 steps.
    net50 = TwoLayerNet(784, 50, 10, seed=0)
    step50 = timed(lambda: net50.numerical_gradient(x, t), args.rounds)
    loop50, _ = book_loop_seconds(net50, x, t, args.loop_sample, args.rounds)

    ref = TwoLayerNet(784, 100, 10, weight_init_std="auto", seed=0)
    foreign = BookTwoLayerNet(*(ref.params[k].copy() for k in ("W1", "b1", "W2", "b2")))
    foreign_check = timed(lambda: check(foreign, x, t, coordinates=30), args.rounds)

    conv = SimpleConvNet(seed=0)
    images = x[:10].reshape(10, 1, 28, 28)
    conv_loop, conv_sampled = book_loop_seconds(conv, images, t[:10], args.conv_loop_sample, 1)
    conv_fast = timed(lambda: conv.numerical_gradient(images, t[:10]), 1)
    conv_params = sum(p.size for p in conv.params.values())

    rows = [
        (f"book's loop, all 79,510 (extrapolated from {sampled:,} parameters)", loop),
        ("digitlab fast path, all 79,510", fast),
        ("digitlab backprop", backprop),
        ("sampled check of a book-style net (30 per tensor)", foreign_check),
        (
            f"SimpleConvNet, 10 images: book's loop, all {conv_params:,} "
            f"(extrapolated from {conv_sampled})",
            conv_loop,
        ),
        (f"SimpleConvNet, 10 images: digitlab, all {conv_params:,}", conv_fast),
    ]
    speedup = statistics.median(loop) / statistics.median(fast)
    hours_book = statistics.median(loop50) * 10_000 / 3600
    minutes_ours = statistics.median(step50) * 10_000 / 60
    print(f"784-100-10, batch 100, float64, {args.rounds} rounds (min / median seconds)")
    for label, times in rows:
        print(f"  {label:58} {min(times):9.4f} / {statistics.median(times):.4f}")
    print(f"  fast path vs book's loop: {speedup:,.0f}x faster (medians)")
    print(
        f"  the book's 10,000-step training by numerical gradient (784-50-10): about "
        f"{hours_book:.0f} h with its loop, {minutes_ours:.0f} min with digitlab's"
    )

    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "numerical_gradient",
                "digitlab_version": digitlab.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
                "parameters": n_params,
                "loop_timed_on": sampled,
                "results": {
                    label: {"min_s": min(v), "median_s": statistics.median(v)} for label, v in rows
                },
                "speedup_median": speedup,
                "book_ch4_training_hours_book_loop": hours_book,
                "book_ch4_training_minutes_digitlab": minutes_ours,
                "simple_conv_net_speedup": statistics.median(conv_loop)
                / statistics.median(conv_fast),
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

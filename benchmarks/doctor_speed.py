"""How long the doctor takes, and what watching costs a training run.

1. `examine` on 784-100-10 with a batch of 100 MNIST images (float64): digitlab's TwoLayerNet,
   the book's chapter-5 network (book_style.py: layers in an OrderedDict holding the weight
   arrays) and a learner-style network written with plain functions, each without and with a
   learning rate (which adds the trial steps); then on the book's SimpleConvNet, digitlab's and
   the chapter-7 one of book_style.py, with the same 100 images (`--conv-rounds` rounds).
2. One epoch of 784-100-10 (float32, batch 100, SGD, 60,000 Fashion-MNIST images) with the
   Trainer's watcher on and off, in pairs, and the time spent inside the watcher.

Prints a table and writes JSON.

    python benchmarks/doctor_speed.py [--rounds 5] [--conv-rounds 2] [--epoch-rounds 20]
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
from book_style import BookSimpleConvNet, BookTwoLayerNet
from digitlab import SGD, SimpleConvNet, Trainer, TwoLayerNet
from digitlab.datasets import load_dataset, to_inputs
from digitlab.doctor import TrainingWatcher, examine

ROOT = Path(__file__).resolve().parents[1]


class LearnerStyleNet:
    """Sigmoid 784-100-10 as learners write it after chapter 4 (the book's 0.01 init)."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.params = {
            "W1": 0.01 * rng.standard_normal((784, 100)),
            "b1": np.zeros(100),
            "W2": 0.01 * rng.standard_normal((100, 10)),
            "b2": np.zeros(10),
        }

    def _forward(self, x):
        z1 = 1 / (1 + np.exp(-(x @ self.params["W1"] + self.params["b1"])))
        a2 = z1 @ self.params["W2"] + self.params["b2"]
        e = np.exp(a2 - a2.max(axis=1, keepdims=True))
        return z1, e / e.sum(axis=1, keepdims=True)

    def predict(self, x):
        return self._forward(x)[1]

    def loss(self, x, t):
        return -np.sum(np.log(self.predict(x)[np.arange(len(t)), t] + 1e-7)) / len(t)

    def gradient(self, x, t):
        z1, y = self._forward(x)
        dy = y.copy()
        dy[np.arange(len(t)), t] -= 1
        dy /= len(t)
        da1 = dy @ self.params["W2"].T * z1 * (1 - z1)
        return {"W1": x.T @ da1, "b1": da1.sum(0), "W2": z1.T @ dy, "b2": dy.sum(0)}


def book_net(seed: int = 0) -> BookTwoLayerNet:
    ref = TwoLayerNet(784, 100, 10, seed=seed)
    return BookTwoLayerNet(*(ref.params[k].copy() for k in ("W1", "b1", "W2", "b2")))


def book_conv_net(seed: int = 0) -> BookSimpleConvNet:
    ref = SimpleConvNet(seed=seed)
    return BookSimpleConvNet({k: v.copy() for k, v in ref.params.items()})


NETWORKS = {
    "digitlab TwoLayerNet (ReLU)": lambda: TwoLayerNet(784, 100, 10, seed=0),
    "book chapter 5 (layers)": book_net,
    "learner-style (sigmoid)": LearnerStyleNet,
}
#: conv nets, examined on the same images as (N, 1, 28, 28)
CONV_NETWORKS = {
    "digitlab SimpleConvNet": lambda: SimpleConvNet(seed=0),
    "book chapter 7 SimpleConvNet": book_conv_net,
}


def time_examine(rounds: int, x: np.ndarray, t: np.ndarray, networks: dict) -> list[dict]:
    rows = []
    for name, make in networks.items():
        for learning_rate in (None, 0.1):
            network = make()
            examine(network, x, t, learning_rate=learning_rate)  # warm up
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                report = examine(network, x, t, learning_rate=learning_rate)
                times.append(time.perf_counter() - start)
            rows.append(
                {
                    "network": name,
                    "learning_rate": learning_rate,
                    "min_s": min(times),
                    "median_s": statistics.median(times),
                    "codes": sorted(report.codes),
                }
            )
    return rows


class TimedWatcher(TrainingWatcher):
    """The Trainer's watcher, adding up the time spent in its callbacks."""

    seconds = 0.0

    def on_step_end(self, *args) -> None:
        start = time.perf_counter()
        super().on_step_end(*args)
        self.seconds += time.perf_counter() - start


def time_epochs(rounds: int, x: np.ndarray, t: np.ndarray) -> dict:
    """Epochs with the watcher (timed from inside) and without it, in pairs, alternating which
    goes first. The watcher's cost is the time spent in its callbacks; the epochs' wall times
    are recorded too, but on a shared machine they vary by more than that cost."""
    times = {True: [], False: []}
    inside = []
    for r in range(rounds):
        for watch in (True, False) if r % 2 == 0 else (False, True):
            net = TwoLayerNet(784, 100, 10, seed=r, dtype="float32")
            watcher = TimedWatcher() if watch else None
            trainer = Trainer(
                net,
                SGD(0.1),
                epochs=1,
                batch_size=100,
                seed=r,
                progress=False,
                log=None,
                watch=False,
                callbacks=[watcher] if watch else [],
            )
            start = time.perf_counter()
            trainer.fit(x, t)
            times[watch].append(time.perf_counter() - start)
            if watch:
                inside.append(watcher.seconds)
    on, off = times[True], times[False]
    return {
        "watch_min_s": min(on),
        "watch_median_s": statistics.median(on),
        "no_watch_min_s": min(off),
        "no_watch_median_s": statistics.median(off),
        "watcher_median_s": statistics.median(inside),
        "watcher_share": statistics.median(inside) / statistics.median(on),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--conv-rounds", type=int, default=2)
    parser.add_argument("--epoch-rounds", type=int, default=20)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fashion-mnist"))
    parser.add_argument(
        "--json", default=str(ROOT / "benchmarks" / "results" / "doctor_speed.json")
    )
    args = parser.parse_args()

    mnist = load_dataset("mnist-10k", progress=False)
    x = to_inputs(mnist.x_train[:100], np.float64)
    t = mnist.t_train[:100].astype(np.intp)
    rows = time_examine(args.rounds, x, t, NETWORKS)
    rows += time_examine(args.conv_rounds, x.reshape(-1, 1, 28, 28), t, CONV_NETWORKS)
    print(f"examine, batch 100 (float64), {args.rounds} rounds ({args.conv_rounds} for conv nets)")
    print(f"{'network':30} {'lr':>5} {'min (s)':>8} {'median (s)':>11}  findings")
    for row in rows:
        lr = "-" if row["learning_rate"] is None else f"{row['learning_rate']:g}"
        print(
            f"{row['network']:30} {lr:>5} {row['min_s']:>8.3f} {row['median_s']:>11.3f}  "
            f"{', '.join(row['codes']) or '-'}"
        )

    fashion = load_dataset(args.data, progress=False)
    epoch = time_epochs(
        args.epoch_rounds, to_inputs(fashion.x_train), fashion.t_train.astype(np.intp)
    )
    print(
        f"\none epoch, 784-100-10, batch 100, float32, {len(fashion.t_train):,} images, "
        f"{args.epoch_rounds} interleaved rounds"
    )
    print(
        f"watch on  {epoch['watch_min_s']:.3f} / {epoch['watch_median_s']:.3f} s (min / median)\n"
        f"watch off {epoch['no_watch_min_s']:.3f} / {epoch['no_watch_median_s']:.3f} s\n"
        f"time inside the watcher: {epoch['watcher_median_s'] * 1e3:.1f} ms per epoch "
        f"({epoch['watcher_share']:.2%} of it)"
    )

    out = Path(args.json)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "doctor_speed",
                "digitlab_version": digitlab.__version__,
                "numpy": np.__version__,
                "python": platform.python_version(),
                "machine": platform.machine(),
                "rounds": args.rounds,
                "examine": rows,
                "epoch": epoch,
            },
            indent=1,
        )
        + "\n"
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()

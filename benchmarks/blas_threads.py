"""Where a second BLAS thread starts to pay: training steps timed with one BLAS thread and with
the BLAS default, network by network.

    python benchmarks/blas_threads.py [--rounds 3]

Each row trains one network for a fixed number of steps (`Trainer.fit`, SGD, float32, Fashion-
MNIST images) with `blas_threads=1` and with `blas_threads=None` (the library's own choice,
here all the machine's cores), alternating round by round; the table gives the seconds per
step (min over the rounds), the ratio default / one thread (above 1: the extra threads cost
time) and the multiply-adds of a batch's forward pass (`network.multiply_adds`). Timing the
products alone is not enough: in isolation even 784-100-10's products gain from a second
thread, but on a small machine the BLAS threads that wait for the next product hold a core the
step's elementwise work (ReLU, softmax, the update) needs. `digitlab.train.threads.SMALL_STEP`
is set from this table. Writes benchmarks/results/blas_threads.json.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info

from digitlab import SGD, DeepConvNet, SimpleConvNet, Trainer, TwoLayerNet
from digitlab.datasets import load_dataset, to_inputs
from digitlab.nn import MLP
from epoch_speed import write_report

ROOT = Path(__file__).resolve().parents[1]
FASHION = ROOT.parent / "shared" / "data" / "fashion-mnist"

#: (what, the network, batch size, steps timed)
NETWORKS = (
    ("784-100-10", lambda: TwoLayerNet(784, 100, 10, seed=0, dtype="float32"), 100, 300),
    ("784-256-10", lambda: TwoLayerNet(784, 256, 10, seed=0, dtype="float32"), 100, 200),
    ("784-512-256-10", lambda: MLP(784, [512, 256], 10, seed=0, dtype="float32"), 100, 100),
    ("784-1024-10", lambda: TwoLayerNet(784, 1024, 10, seed=0, dtype="float32"), 100, 100),
    (
        "784-100-10, batch 1000",
        lambda: TwoLayerNet(784, 100, 10, seed=0, dtype="float32"),
        1000,
        40,
    ),
    ("SimpleConvNet", lambda: SimpleConvNet(seed=0, dtype="float32"), 100, 20),
    ("SimpleConvNet, 256 hidden", lambda: SimpleConvNet(hidden_size=256, dtype="float32"), 100, 20),
    ("DeepConvNet", lambda: DeepConvNet(seed=0, dtype="float32"), 100, 4),
)


def seconds_per_step(make, batch_size: int, steps: int, threads: int | None, x, t) -> float:
    """One fit of `steps` steps (after two warm-up steps on another network); its training
    loop's seconds / steps."""

    def fit(images: int):
        trainer = Trainer(
            make(),
            SGD(0.01),
            epochs=1,
            batch_size=batch_size,
            log=None,
            progress=False,
            blas_threads=threads,
            train_accuracy_samples=1,
        )
        return trainer.fit(x[:images], t[:images])

    fit(2 * batch_size)
    return fit(batch_size * steps).seconds[0] / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--data", default=str(FASHION))
    parser.add_argument("--out", default="benchmarks/results/blas_threads.json")
    args = parser.parse_args()
    data = load_dataset(args.data, progress=False)
    x, t = to_inputs(data.x_train, np.float32), data.t_train.astype(np.intp)
    default = max(
        (pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"),
        default=1,
    )
    print(f"{'network':28s} {'batch':>5s} {'step (mult-adds)':>13s} {'1 thread':>10s} ", end="")
    print(f"{f'{default} threads':>10s} {'ratio':>6s}")
    rows = []
    for name, make, batch_size, steps in NETWORKS:
        one, many = [], []
        for _ in range(args.rounds):
            one.append(seconds_per_step(make, batch_size, steps, 1, x, t))
            many.append(seconds_per_step(make, batch_size, steps, None, x, t))
        work = make().multiply_adds(batch_size)
        row = {
            "network": name,
            "batch_size": batch_size,
            "step_multiply_adds": work,
            "one_thread_ms": min(one) * 1e3,
            "default_threads_ms": min(many) * 1e3,
            "ratio": min(many) / min(one),
        }
        rows.append(row)
        print(
            f"{name:28s} {batch_size:5d} {work / 1e6:11.1f} M {row['one_thread_ms']:8.2f}ms "
            f"{row['default_threads_ms']:8.2f}ms {row['ratio']:6.2f}"
        )
    write_report(args.out, {"default_threads": default, "rounds": args.rounds, "rows": rows})


if __name__ == "__main__":
    main()

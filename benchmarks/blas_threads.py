"""Where a second BLAS thread starts to pay: the matrix products of a training step timed with
one thread and with the BLAS default, product size by product size.

    python benchmarks/blas_threads.py [--rounds 5]

Each row is one product shape (m, k, n) that digitlab's networks make, timed as a step makes
it: the forward product (m, k) @ (k, n) and the weight gradient's (k, m) @ (m, n) (the
transposed input, as `x.T @ dout`), into preallocated outputs, repeated for about 0.2 s. One
thread and the default thread count alternate, round by round; the table gives the min over the
rounds and the ratio default / one thread (above 1: the second thread costs time).
`digitlab.train.threads.SMALL_PRODUCT` is set from this table: a training step whose largest
product is smaller runs on one BLAS thread. Writes benchmarks/results/blas_threads.json.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

from epoch_speed import write_report

#: (what makes it, m, k, n): the products of the MLP and conv net steps, smallest first
SHAPES = (
    ("SimpleConvNet's convolution (one sample)", 30, 25, 576),
    ("784-100-10 output layer, batch 100", 100, 100, 10),
    ("DeepConvNet's largest convolution (one sample)", 64, 288, 49),
    ("784-100-10 hidden layer, batch 100", 100, 784, 100),
    ("784-256-10 hidden layer, batch 100", 100, 784, 256),
    ("784-512-256-10 first layer, batch 100", 100, 784, 512),
    ("784-100-10 hidden layer, batch 1000", 1000, 784, 100),
    ("784-1024-10 hidden layer, batch 100", 100, 784, 1024),
    ("SimpleConvNet 256 hidden layer, batch 100", 100, 4320, 256),
    ("784-1024-10 hidden layer, batch 1000", 1000, 784, 1024),
)
SECONDS_PER_MEASUREMENT = 0.2


def time_products(m: int, k: int, n: int, threads: int | None) -> float:
    """Seconds for one forward and one weight-gradient product of shape (m, k, n)."""
    rng = np.random.default_rng(0)
    x, w = rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32)
    dout = rng.random((m, n), dtype=np.float32)
    out, grad = np.empty((m, n), np.float32), np.empty((k, n), np.float32)
    repeats = max(5, int(SECONDS_PER_MEASUREMENT * 2e10 / (4 * m * k * n)))
    with threadpool_limits(threads, user_api="blas"):
        for _ in range(3):
            np.matmul(x, w, out=out)
            np.matmul(x.T, dout, out=grad)
        start = time.perf_counter()
        for _ in range(repeats):
            np.matmul(x, w, out=out)
            np.matmul(x.T, dout, out=grad)
        return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default="benchmarks/results/blas_threads.json")
    args = parser.parse_args()
    default = max(
        (pool["num_threads"] for pool in threadpool_info() if pool["user_api"] == "blas"),
        default=1,
    )
    rows = []
    print(f"{'product':48s} {'m x k x n':>17s} {'M mult-adds':>11s} {'1 thread':>10s} ", end="")
    print(f"{f'{default} threads':>10s} {'ratio':>6s}")
    for name, m, k, n in SHAPES:
        one, many = [], []
        for _ in range(args.rounds):
            one.append(time_products(m, k, n, 1))
            many.append(time_products(m, k, n, None))
        row = {
            "product": name,
            "shape": [m, k, n],
            "multiply_adds": m * k * n,
            "one_thread_us": min(one) * 1e6,
            "default_threads_us": min(many) * 1e6,
            "ratio": min(many) / min(one),
        }
        rows.append(row)
        print(
            f"{name:48s} {f'{m}x{k}x{n}':>17s} {m * k * n / 1e6:11.2f} "
            f"{row['one_thread_us']:8.1f}us {row['default_threads_us']:8.1f}us {row['ratio']:6.2f}"
        )
    write_report(args.out, {"default_threads": default, "rounds": args.rounds, "rows": rows})


if __name__ == "__main__":
    main()

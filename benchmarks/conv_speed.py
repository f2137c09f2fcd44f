"""One training epoch of the book's SimpleConvNet (batch 100, SGD, float32) on the 60,000
Fashion-MNIST images: digitlab beside a book-style NumPy conv net and PyTorch on the CPU, each
measurement in a fresh process, with where each NumPy peer's time goes.

    python benchmarks/conv_speed.py [--data ../shared/data/fashion-mnist] [--rounds 3]
    python benchmarks/conv_speed.py --peers digitlab pytorch --threads 1

Peers (what each one's time covers):

* digitlab: `Trainer(SimpleConvNet(dtype="float32"), SGD(0.1), batch_size=100).fit(x, t)`
  (epochs=1, progress bar and log off). "steps" is the epoch's training loop
  (`history.seconds`), the part the other peers time; "full fit" is the whole call, with the
  accuracy pass over the training images after the epoch.
* book-style: chapter 7's SimpleConvNet as a learner writes it from the book (book_style.py):
  im2col/col2im looping over the filter's rows and columns, max pooling through im2col and
  argmax, SGD on the params dict.
* pytorch: Conv2d(1, 30, 5) → ReLU → MaxPool2d(2) → Flatten → Linear(4320, 100) → ReLU →
  Linear(100, 10), CrossEntropyLoss, optim.SGD, on the CPU with torch.set_num_threads equal to
  NumPy's BLAS threads.

All three start from the same initial weights (SimpleConvNet's, seed = round) and see the same
batches (the permutation digitlab's Trainer draws for that seed). After the timed epoch, each
NumPy peer trains 100 more batches with every layer timed: the breakdown (im2col, the
convolution's matrix products, col2im, pooling, ReLU, affine, the rest) is the share of a step.
The JSON also records the mean loss on the first 10,000 images after the epoch (the peers did the
same work), the process's peak memory, and its memory before and after the epoch (an epoch that
kept per-batch allocations would grow it).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from epoch_speed import (
    THREAD_VARIABLES,
    batch_order,
    blas_threads,
    current_rss_mb,
    interleaved_rounds,
    mean_loss,
    write_report,
)
from epoch_speed import summarize as epoch_summary

ROOT = Path(__file__).resolve().parents[1]
PEERS = ("digitlab", "book-style", "pytorch")
BATCH_SIZE = 100
LR = 0.1
WARMUP_STEPS = 20
PROFILE_STEPS = 100
CHECK_IMAGES = 10_000
#: (peer, ratio limit) of issue 13, for digitlab's training steps over the peer
TARGETS = {"book-style": 0.5, "pytorch": 1.5}
PARTS = ("im2col", "conv products", "col2im", "pooling", "relu", "affine", "rest")


def images(x: np.ndarray) -> np.ndarray:
    return x.reshape(-1, 1, 28, 28)


def initial_params(seed: int) -> dict[str, np.ndarray]:
    """SimpleConvNet's initial float32 weights for `seed`: every peer's start."""
    from digitlab import SimpleConvNet

    net = SimpleConvNet(seed=seed, dtype="float32")
    return {name: value.copy() for name, value in net.params.items()}


class Breakdown:
    """Times every layer's forward and backward, by kind, and inside the convolutions the
    module's functions that play im2col and col2im (`functions`: part -> name), while `steps`
    runs; the rest of a step is 'rest'."""

    def __init__(self, layers, module, functions: dict[str, str]) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.inside_convolution = False
        for layer in layers:
            kind = type(layer).__name__.lower()
            part = {"convolution": "conv products", "pooling": "pooling", "relu": "relu"}
            self._wrap_layer(layer, part.get(kind, "affine" if kind == "affine" else "rest"))
        for part, name in functions.items():
            self._wrap_function(module, name, part)

    def _wrap_layer(self, layer, part: str) -> None:
        for method in ("forward", "backward"):
            original = getattr(layer, method)

            def timed(*args, _original=original, **kwargs):
                self.inside_convolution = part == "conv products"
                start = time.perf_counter()
                try:
                    return _original(*args, **kwargs)
                finally:
                    self.seconds[part] += time.perf_counter() - start
                    self.inside_convolution = False

            setattr(layer, method, timed)

    def _wrap_function(self, module, name: str, part: str) -> None:
        original = getattr(module, name)

        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                if self.inside_convolution:  # pooling's own im2col counts as pooling
                    spent = time.perf_counter() - start
                    self.seconds[part] += spent
                    self.seconds["conv products"] -= spent

        setattr(module, name, timed)

    def shares(self, step) -> dict[str, float]:
        start = time.perf_counter()
        step()
        total = time.perf_counter() - start
        self.seconds["rest"] += total - sum(self.seconds.values())
        return {part: self.seconds[part] / total for part in PARTS}


def profiled_steps(x, t, train_step) -> None:
    order = np.random.default_rng(123).permutation(len(x))[: PROFILE_STEPS * BATCH_SIZE]
    for start in range(0, len(order), BATCH_SIZE):
        batch = order[start : start + BATCH_SIZE]
        train_step(x[batch], t[batch])


def run_digitlab(x: np.ndarray, t: np.ndarray, seed: int) -> dict:
    import digitlab.nn.conv
    from digitlab import SGD, SimpleConvNet, Trainer

    def fit(x_fit, t_fit):
        net = SimpleConvNet(seed=seed, dtype="float32")
        trainer = Trainer(
            net, SGD(LR), epochs=1, batch_size=BATCH_SIZE, seed=seed, progress=False, log=None
        )
        start = time.perf_counter()
        history = trainer.fit(x_fit, t_fit)
        return net, history, time.perf_counter() - start

    fit(x[: WARMUP_STEPS * BATCH_SIZE], t[: WARMUP_STEPS * BATCH_SIZE])
    rss_before = current_rss_mb()
    net, history, seconds = fit(x, t)
    rss_after = current_rss_mb()
    result = {
        "seconds": history.seconds[0],
        "full_fit_seconds": seconds,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "check_loss": mean_loss(net.predict(x[:CHECK_IMAGES]), t[:CHECK_IMAGES]),
    }
    optimizer = SGD(LR)
    # digitlab's convolution keeps each sample's patches as columns (nn/conv.py)
    parts = {"im2col": "columns", "col2im": "add_columns"}
    breakdown = Breakdown(net.layers, digitlab.nn.conv, parts)

    def step(xb, tb):
        optimizer.update(net.params, net.gradient(xb, tb))

    result["breakdown"] = breakdown.shares(lambda: profiled_steps(x, t, step))
    return result


def run_book(x: np.ndarray, t: np.ndarray, seed: int) -> dict:
    import book_style
    from book_style import BookSimpleConvNet, softmax, train_epoch

    warmup = np.arange(WARMUP_STEPS * BATCH_SIZE)
    train_epoch(BookSimpleConvNet(initial_params(seed)), x, t, warmup, BATCH_SIZE, LR)
    net, order = BookSimpleConvNet(initial_params(seed)), batch_order(len(x), seed)
    rss_before = current_rss_mb()
    start = time.perf_counter()
    train_epoch(net, x, t, order, BATCH_SIZE, LR)
    seconds = time.perf_counter() - start
    rss_after = current_rss_mb()
    probs = np.concatenate(
        [softmax(net.predict(x[i : i + 1000])) for i in range(0, CHECK_IMAGES, 1000)]
    )
    parts = {"im2col": "im2col", "col2im": "col2im"}
    breakdown = Breakdown(net.layers.values(), book_style, parts)

    def step(xb, tb):
        grad = net.gradient(xb, tb)
        for key in net.params:
            net.params[key] -= LR * grad[key]

    return {
        "seconds": seconds,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "check_loss": mean_loss(probs, t[:CHECK_IMAGES]),
        "breakdown": breakdown.shares(lambda: profiled_steps(x, t, step)),
    }


def run_pytorch(x: np.ndarray, t: np.ndarray, seed: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    x_all, t_all = torch.from_numpy(x), torch.from_numpy(t)
    nn = torch.nn

    def make():
        p = initial_params(seed)
        model = nn.Sequential(
            nn.Conv2d(1, 30, 5),
            nn.ReLU(),
            nn.MaxPool2d(2, 2),
            nn.Flatten(),
            nn.Linear(30 * 12 * 12, 100),
            nn.ReLU(),
            nn.Linear(100, 10),
        )
        with torch.no_grad():  # Conv2d's weight is laid out as the book's W1; Linear's is W.T
            model[0].weight.copy_(torch.from_numpy(p["W1"]))
            model[0].bias.copy_(torch.from_numpy(p["b1"]))
            for layer, (weight, bias) in ((model[4], ("W2", "b2")), (model[6], ("W3", "b3"))):
                layer.weight.copy_(torch.from_numpy(p[weight].T.copy()))
                layer.bias.copy_(torch.from_numpy(p[bias]))
        return model

    def train_epoch(model, order: torch.Tensor) -> None:
        optimizer = torch.optim.SGD(model.parameters(), lr=LR)
        loss_fn = nn.CrossEntropyLoss()
        for start in range(0, len(order), BATCH_SIZE):
            batch = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss_fn(model(x_all[batch]), t_all[batch]).backward()
            optimizer.step()

    train_epoch(make(), torch.arange(WARMUP_STEPS * BATCH_SIZE))
    model, order = make(), torch.from_numpy(batch_order(len(x), seed))
    rss_before = current_rss_mb()
    start = time.perf_counter()
    train_epoch(model, order)
    seconds = time.perf_counter() - start
    rss_after = current_rss_mb()
    with torch.no_grad():
        probs = torch.softmax(model(x_all[:CHECK_IMAGES]), dim=1).numpy()
    return {
        "seconds": seconds,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "check_loss": mean_loss(probs, t[:CHECK_IMAGES]),
        "torch_threads": torch.get_num_threads(),
    }


def worker(peer: str, data: Path, seed: int, threads: int) -> dict:
    x, t = images(np.load(data / "x.npy")), np.load(data / "t.npy")
    runs = {
        "digitlab": lambda: run_digitlab(x, t, seed),
        "book-style": lambda: run_book(x, t, seed),
        "pytorch": lambda: run_pytorch(x, t, seed, threads),
    }
    result = runs[peer]()
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["blas_threads"] = blas_threads()
    return result


def summarize(peer: str, runs: list[dict], ours: dict | None) -> dict:
    """epoch_speed's row, with this benchmark's targets, how far the process's memory grew
    over the epoch and the median time breakdown."""
    row = epoch_summary(peer, runs, ours, TARGETS)
    row["epoch_rss_growth_mb"] = max(r["rss_after_mb"] - r["rss_before_mb"] for r in runs)
    if "breakdown" in runs[0]:
        row["breakdown"] = {
            part: statistics.median(r["breakdown"][part] for r in runs) for part in PARTS
        }
    return row


def print_table(rows: list[dict], n: int, rounds: int, threads: int) -> None:
    print(
        f"one epoch of SimpleConvNet, batch {BATCH_SIZE}, SGD lr {LR}, float32, {n:,} images; "
        f"{rounds} rounds, a fresh process each; {threads} BLAS thread(s)"
    )
    print(
        f"{'peer':16} {'min (s)':>8} {'median (s)':>11}  {'digitlab / peer':>18}"
        f"  {'peak RSS':>9}  {'epoch growth':>12}"
    )
    for row in rows:
        ratio = ""
        if "ratio_min" in row:
            ratio = f"{row['ratio_min']:.2f} / {row['ratio_median']:.2f}"
            if "target" in row:
                ratio += f" {'<=' if row['target_met'] else '> '}{row['target']}"
        print(
            f"{row['peer']:16} {row['min_s']:8.2f} {row['median_s']:11.2f}  {ratio:>18}"
            f"  {row['peak_rss_mb']:6.0f} MB  {row['epoch_rss_growth_mb']:9.1f} MB"
        )
        if "full_median_s" in row:
            print(f"{'digitlab full fit':16} {'':8} {row['full_median_s']:11.2f}")
    print("where a training step's time goes (share of the step, median over rounds):")
    print(f"{'peer':16} " + " ".join(f"{part:>13}" for part in PARTS))
    for row in rows:
        if "breakdown" in row:
            shares = " ".join(f"{row['breakdown'][part]:13.0%}" for part in PARTS)
            print(f"{row['peer']:16} {shares}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fashion-mnist"))
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument("--threads", type=int, help="BLAS/OpenMP threads of every peer")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "conv_speed.json"))
    parser.add_argument("--worker", choices=PEERS, help=argparse.SUPPRESS)
    parser.add_argument("--prepared", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.prepared, args.seed, args.threads)))
        return

    peers = [p for p in PEERS if p in args.peers]
    threads = args.threads or blas_threads()
    runs, n, load = interleaved_rounds(
        peers, args.rounds, args.data, threads, bool(args.threads), __file__
    )
    ours = summarize("digitlab", runs["digitlab"], None) if "digitlab" in runs else None
    rows = [summarize(peer, runs[peer], ours if peer != "digitlab" else None) for peer in peers]
    print_table(rows, n, args.rounds, threads)
    report = {
        "benchmark": "conv_speed",
        "what": f"one epoch of SimpleConvNet, batch {BATCH_SIZE}, SGD lr {LR}, float32, {n} "
        "Fashion-MNIST training images",
        "rounds": args.rounds,
        "threads": threads,
        "threads_set_by": "--threads" if args.threads else "the BLAS default",
        "thread_variables": THREAD_VARIABLES,
        "targets": TARGETS,
        "load_average_1_5_15_min": load,
        "results": rows,
    }
    write_report(args.json, report)


if __name__ == "__main__":
    main()

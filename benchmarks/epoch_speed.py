"""One training epoch of 784-100-10 (batch 100, SGD, float32) on the 60,000 Fashion-MNIST
images: digitlab beside a book-style NumPy network, PyTorch on the CPU, scikit-learn's
MLPClassifier and the machine's bound, each measurement in a fresh process.

    python benchmarks/epoch_speed.py [--data ../shared/data/fashion-mnist] [--rounds 5]
    python benchmarks/epoch_speed.py --peers digitlab book-style bound   # a subset
    python benchmarks/epoch_speed.py --threads 1   # every peer single-threaded

Peers (what each one's time covers):

* digitlab: what a user gets from
  `Trainer(TwoLayerNet(784, 100, 10, dtype="float32"), SGD(0.1), batch_size=100).fit(x, t)`
  (epochs=1, progress bar and log off). Two columns: "full fit" is the whole call, including
  the accuracy pass over the 60,000 training images that fit makes after every epoch (about
  a third of the call) and the doctor's watcher; "steps" is the epoch's training
  loop alone (`history.seconds`: batches, steps, optimizer, watcher), the part the other peers
  time. The ratios in the table are digitlab's steps over each peer.
* book-style: Deep Learning from Scratch's chapter-5 TwoLayerNet (book_style.py), its
  `gradient` by backprop and `params[key] -= lr * grad[key]`.
* pytorch: nn.Linear → ReLU → nn.Linear, CrossEntropyLoss, optim.SGD, on the CPU with
  torch.set_num_threads equal to NumPy's BLAS threads.
* sklearn: MLPClassifier(hidden_layer_sizes=(100,), solver="sgd", batch_size=100,
  learning_rate_init=0.1, momentum=0, alpha=0, max_iter=1): plain SGD like the others, timed
  as one `fit` call (its input checks included). It draws its own initial weights (Glorot)
  and its own batch order.
* lean: the leanest NumPy epoch of this one network we could write (lean_step.py): every
  array allocated once, every elementwise step in place, the updates straight from the
  products, nothing checked or recorded but the loss. Not a library: a floor for NumPy,
  between the book-style loop and the bound.
* bound: the five matrix products of a step (x @ W1, h @ W2, h.T @ dout, dout @ W2.T,
  x.T @ dh) at their shapes, into preallocated outputs, 600 times: what no NumPy
  implementation of the step can beat with this BLAS and thread count.

digitlab, book-style and pytorch start from the same initial weights (TwoLayerNet's, seed =
round) and see the same batches (the permutation digitlab's Trainer draws for that seed). Each
measurement runs in its own process (no peer inherits another's threads, caches or heap),
after a warm-up of 20 steps on a throwaway model in that process; rounds interleave the peers,
in a rotating order, so a noisy machine slows them alike. Per peer the table gives the min
and the median over the rounds, and the JSON also the mean loss on the first 10,000 training
images after the epoch (that every peer did the same work) and the process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
PEERS = ("digitlab", "book-style", "pytorch", "sklearn", "lean", "bound")
SIZES = (784, 100, 10)
BATCH_SIZE = 100
LR = 0.1
WARMUP_STEPS = 20
#: images whose mean loss after the epoch is recorded, as a check that the peers agree
CHECK_IMAGES = 10_000
#: (peer, ratio limit) of issue 5, for digitlab's training steps over the peer
TARGETS = {"pytorch": 0.5, "book-style": 0.75, "bound": 1.5}
#: what --threads sets in each worker's environment (BLAS libraries read them when loaded)
THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")
ENV_PREFIXES = ("OPENBLAS_", "OMP_", "MKL_", "GOTO", "BLIS_", "VECLIB_", "KMP_")


# -- the peers, each run inside a worker process ----------------------------------------------


def initial_params(seed: int) -> dict[str, np.ndarray]:
    """TwoLayerNet's initial float32 weights for `seed` (the book's 0.01 * normal, zero
    biases): the start of digitlab, book-style and pytorch alike."""
    from digitlab import TwoLayerNet

    net = TwoLayerNet(*SIZES, seed=seed, dtype="float32")
    return {name: value.copy() for name, value in net.params.items()}


def batch_order(n: int, seed: int) -> np.ndarray:
    """The permutation digitlab's Trainer(seed=seed) draws for its first epoch."""
    return np.random.default_rng(seed).permutation(n)


def mean_loss(probs: np.ndarray, t: np.ndarray) -> float:
    """Mean cross-entropy of class probabilities probs: (N, C) against labels t: (N,)."""
    p = probs[np.arange(len(t)), t].astype(np.float64)
    return float(-np.mean(np.log(np.maximum(p, 1e-12))))


def run_digitlab(x: np.ndarray, t: np.ndarray, seed: int) -> dict:
    from digitlab import SGD, Trainer, TwoLayerNet

    def fit(x_fit, t_fit):
        net = TwoLayerNet(*SIZES, seed=seed, dtype="float32")
        trainer = Trainer(
            net, SGD(LR), epochs=1, batch_size=BATCH_SIZE, seed=seed, progress=False, log=None
        )
        start = time.perf_counter()
        history = trainer.fit(x_fit, t_fit)
        return net, history, time.perf_counter() - start

    fit(x[: WARMUP_STEPS * BATCH_SIZE], t[: WARMUP_STEPS * BATCH_SIZE])
    rss_before = current_rss_mb()
    net, history, seconds = fit(x, t)
    return {
        "seconds": history.seconds[0],
        "full_fit_seconds": seconds,
        "rss_before_mb": rss_before,
        "check_loss": mean_loss(net.predict(x[:CHECK_IMAGES]), t[:CHECK_IMAGES]),
    }


def run_book(x: np.ndarray, t: np.ndarray, seed: int) -> dict:
    from book_style import BookTwoLayerNet, softmax, train_epoch

    def make() -> BookTwoLayerNet:
        p = initial_params(seed)
        return BookTwoLayerNet(p["W1"], p["b1"], p["W2"], p["b2"])

    warmup = np.arange(WARMUP_STEPS * BATCH_SIZE)
    train_epoch(make(), x, t, warmup, BATCH_SIZE, LR)
    net, order = make(), batch_order(len(x), seed)
    rss_before = current_rss_mb()
    start = time.perf_counter()
    train_epoch(net, x, t, order, BATCH_SIZE, LR)
    seconds = time.perf_counter() - start
    probs = softmax(net.predict(x[:CHECK_IMAGES]))
    return {
        "seconds": seconds,
        "rss_before_mb": rss_before,
        "check_loss": mean_loss(probs, t[:CHECK_IMAGES]),
    }


def run_lean(x: np.ndarray, t: np.ndarray, seed: int) -> dict:
    from book_style import BookTwoLayerNet, softmax
    from lean_step import train_epoch_lean

    warmup = np.arange(WARMUP_STEPS * BATCH_SIZE)
    train_epoch_lean(initial_params(seed), x, t, warmup, BATCH_SIZE, LR)
    params, order = initial_params(seed), batch_order(len(x), seed)
    rss_before = current_rss_mb()
    start = time.perf_counter()
    train_epoch_lean(params, x, t, order, BATCH_SIZE, LR)
    seconds = time.perf_counter() - start
    trained = BookTwoLayerNet(params["W1"], params["b1"], params["W2"], params["b2"])
    probs = softmax(trained.predict(x[:CHECK_IMAGES]))  # the check as the book-style peer's
    return {
        "seconds": seconds,
        "rss_before_mb": rss_before,
        "check_loss": mean_loss(probs, t[:CHECK_IMAGES]),
    }


def run_pytorch(x: np.ndarray, t: np.ndarray, seed: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    x_all, t_all = torch.from_numpy(x), torch.from_numpy(t)

    def make():
        p = initial_params(seed)
        model = torch.nn.Sequential(
            torch.nn.Linear(SIZES[0], SIZES[1]), torch.nn.ReLU(), torch.nn.Linear(*SIZES[1:])
        )
        with torch.no_grad():  # Linear keeps W transposed: (out, in)
            for layer, (weight, bias) in zip(model[::2], (("W1", "b1"), ("W2", "b2")), strict=True):
                layer.weight.copy_(torch.from_numpy(p[weight].T.copy()))
                layer.bias.copy_(torch.from_numpy(p[bias]))
        return model

    def train_epoch(model, order: torch.Tensor) -> None:
        optimizer = torch.optim.SGD(model.parameters(), lr=LR)
        loss_fn = torch.nn.CrossEntropyLoss()
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
    with torch.no_grad():
        probs = torch.softmax(model(x_all[:CHECK_IMAGES]), dim=1).numpy()
    return {
        "seconds": seconds,
        "rss_before_mb": rss_before,
        "check_loss": mean_loss(probs, t[:CHECK_IMAGES]),
        "torch_threads": torch.get_num_threads(),
        "torch_config": torch.__config__.parallel_info(),
        "threadpools": threadpool_info(),
    }


def run_sklearn(x: np.ndarray, t: np.ndarray, seed: int) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    def fit(x_fit, t_fit):
        model = MLPClassifier(
            hidden_layer_sizes=(SIZES[1],),
            solver="sgd",
            batch_size=BATCH_SIZE,
            learning_rate_init=LR,
            momentum=0.0,
            alpha=0.0,
            max_iter=1,
            random_state=seed,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            # one epoch is what we ask for: not converging in it is expected
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x_fit, t_fit)
        return model, time.perf_counter() - start

    fit(x[: WARMUP_STEPS * BATCH_SIZE], t[: WARMUP_STEPS * BATCH_SIZE])
    rss_before = current_rss_mb()
    model, seconds = fit(x, t)
    return {
        "seconds": seconds,
        "rss_before_mb": rss_before,
        "check_loss": mean_loss(model.predict_proba(x[:CHECK_IMAGES]), t[:CHECK_IMAGES]),
        "weights_dtype": str(model.coefs_[0].dtype),
    }


def run_bound(x: np.ndarray, t: np.ndarray, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    d_in, hidden, d_out = SIZES

    def array(*shape: int) -> np.ndarray:
        return rng.random(shape, dtype=np.float32)

    x_batch, W1, W2 = array(BATCH_SIZE, d_in), array(d_in, hidden), array(hidden, d_out)
    h, dout, dh = array(BATCH_SIZE, hidden), array(BATCH_SIZE, d_out), array(BATCH_SIZE, hidden)
    products = [  # (a, b, out): the forward pass, then the backward pass
        (x_batch, W1, np.empty((BATCH_SIZE, hidden), np.float32)),
        (h, W2, np.empty((BATCH_SIZE, d_out), np.float32)),
        (h.T, dout, np.empty((hidden, d_out), np.float32)),
        (dout, W2.T, np.empty((BATCH_SIZE, hidden), np.float32)),
        (x_batch.T, dh, np.empty((d_in, hidden), np.float32)),
    ]

    def steps(count: int) -> float:
        start = time.perf_counter()
        for _ in range(count):
            for a, b, out in products:
                np.matmul(a, b, out=out)
        return time.perf_counter() - start

    steps(WARMUP_STEPS)
    rss_before = current_rss_mb()
    return {"seconds": steps(len(x) // BATCH_SIZE), "rss_before_mb": rss_before}


def worker(peer: str, data: Path, seed: int, threads: int) -> dict:
    """Load the prepared arrays, time `peer`, and describe the process."""
    x, t = np.load(data / "x.npy"), np.load(data / "t.npy")
    runs = {
        "digitlab": lambda: run_digitlab(x, t, seed),
        "book-style": lambda: run_book(x, t, seed),
        "pytorch": lambda: run_pytorch(x, t, seed, threads),
        "sklearn": lambda: run_sklearn(x, t, seed),
        "lean": lambda: run_lean(x, t, seed),
        "bound": lambda: run_bound(x, t, seed),
    }
    result = runs[peer]()
    # ru_maxrss is in KiB on Linux: the process's peak, the 190 MB of data and imports included
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["blas_threads"] = blas_threads()
    return result


# -- the machine ------------------------------------------------------------------------------


def current_rss_mb() -> float | None:
    """The process's resident memory now (Linux), before the timed run."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def threadpool_info() -> list[dict] | None:
    """threadpoolctl's view of the BLAS and OpenMP libraries loaded (None if not installed)."""
    try:
        from threadpoolctl import threadpool_info as info
    except ImportError:
        return None
    return info()


def blas_threads() -> int:
    """Threads NumPy's BLAS uses (threadpoolctl), else the CPUs this process may run on."""
    for pool in threadpool_info() or []:
        if pool.get("user_api") == "blas" and "numpy" in pool.get("filepath", ""):
            return int(pool["num_threads"])
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def environment() -> dict:
    """What the numbers depend on: CPU, BLAS and its settings, versions."""
    try:
        numpy_config = np.show_config(mode="dicts")
        blas = numpy_config["Build Dependencies"]["blas"]
        simd = numpy_config.get("SIMD Extensions")
    except (TypeError, KeyError):  # NumPy < 1.26 has no mode="dicts"
        blas = simd = None
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "versions": {p: version(p) for p in ("digitlab", "numpy", "torch", "scikit-learn")},
        "numpy_blas": blas,
        "numpy_simd": simd,
        "threadpools": threadpool_info(),
        "blas_threads": blas_threads(),
        "env": {k: v for k, v in sorted(os.environ.items()) if k.startswith(ENV_PREFIXES)},
    }


# -- the driver -------------------------------------------------------------------------------


def prepare(data_dir: str, out: Path) -> int:
    """Write the float32 training images and their labels where every worker loads them."""
    from digitlab.datasets import load_dataset, to_inputs

    data = load_dataset(data_dir, progress=False)
    np.save(out / "x.npy", to_inputs(data.x_train, np.float32))
    np.save(out / "t.npy", data.t_train.astype(np.intp))
    return len(data.t_train)


def measure(
    peer: str, data: Path, seed: int, threads: int, set_threads: bool, script: str = __file__
) -> dict:
    """One measurement: a fresh Python process running `script --worker peer`, with `threads`
    BLAS and OpenMP threads set through the environment where `set_threads`."""
    command = [sys.executable, script, "--worker", peer, "--prepared", str(data)]
    command += ["--seed", str(seed), "--threads", str(threads)]
    env = dict(os.environ)
    if set_threads:
        env.update({name: str(threads) for name in THREAD_VARIABLES})
    done = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(f"{peer} (seed {seed}) failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


def interleaved_rounds(
    peers: list[str], rounds: int, data_dir: str, threads: int, set_threads: bool, script: str
) -> tuple[dict[str, list[dict]], int, dict]:
    """Every peer measured `rounds` times by `script`'s workers, the rounds interleaved in a
    rotating order so that no peer is always first (or always after the same one) and a noisy
    machine slows them alike. Returns (runs by peer, images, the load average before/after:
    other work on a small machine shows up there first)."""
    runs: dict[str, list[dict]] = {peer: [] for peer in peers}
    load = {"before": os.getloadavg()}
    with tempfile.TemporaryDirectory(prefix="digitlab-bench-") as tmp:
        n = prepare(data_dir, Path(tmp))
        for r in range(rounds):
            rotation = r % len(peers)
            for peer in peers[rotation:] + peers[:rotation]:
                runs[peer].append(measure(peer, Path(tmp), r, threads, set_threads, script))
            print(
                f"round {r + 1}/{rounds}: "
                + ", ".join(f"{peer} {runs[peer][-1]['seconds']:.3f} s" for peer in peers)
                + f" (load average {os.getloadavg()[0]:.1f})",
                file=sys.stderr,
            )
    load["after"] = os.getloadavg()
    return runs, n, load


def write_report(path: str, report: dict) -> None:
    """The benchmark's JSON, with the machine's description added, and a line saying where."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({**report, "environment": environment()}, indent=1) + "\n")
    print(f"wrote {out}")


def summarize(
    peer: str, runs: list[dict], ours: dict | None, targets: dict[str, float] = TARGETS
) -> dict:
    """One peer's row: its times (min, median), memory and check losses, and with `ours` (the
    digitlab row) the ratios of digitlab over it, judged against `targets`."""
    seconds = [r["seconds"] for r in runs]
    row = {
        "peer": peer,
        "seconds": seconds,
        "min_s": min(seconds),
        "median_s": statistics.median(seconds),
        "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
        "rss_before_mb": max(r["rss_before_mb"] or 0 for r in runs),
    }
    if "check_loss" in runs[0]:
        row["check_loss"] = [r["check_loss"] for r in runs]
    if "full_fit_seconds" in runs[0]:
        full = [r["full_fit_seconds"] for r in runs]
        row.update(full_fit_seconds=full, full_min_s=min(full))
        row["full_median_s"] = statistics.median(full)
    if ours is not None:
        row["ratio_min"] = ours["min_s"] / row["min_s"]
        row["ratio_median"] = ours["median_s"] / row["median_s"]
        row["full_fit_ratio_min"] = ours["full_min_s"] / row["min_s"]
        row["full_fit_ratio_median"] = ours["full_median_s"] / row["median_s"]
        if peer in targets:
            row["target"] = targets[peer]
            row["target_met"] = row["ratio_median"] <= targets[peer]
    extras = ("torch_threads", "torch_config", "threadpools", "weights_dtype")
    row.update({k: runs[0][k] for k in extras if k in runs[0]})
    return row


def print_table(rows: list[dict], n: int, rounds: int, threads: int) -> None:
    print(
        f"one epoch of 784-100-10, batch {BATCH_SIZE}, SGD lr {LR}, float32, {n:,} images; "
        f"{rounds} rounds, a fresh process each; {threads} BLAS thread(s)"
    )
    print(
        f"{'peer':18} {'min (s)':>8} {'median (s)':>11}  {'digitlab steps / peer':>22}"
        f"  {'full fit / peer':>16}  {'peak RSS':>9}"
    )
    for row in rows:
        ratio = full = ""
        if "ratio_min" in row:
            ratio = f"{row['ratio_min']:.2f} / {row['ratio_median']:.2f}"
            full = f"{row['full_fit_ratio_min']:.2f} / {row['full_fit_ratio_median']:.2f}"
            if "target" in row:
                ratio += f" {'<=' if row['target_met'] else '> '}{row['target']}"
        label = "digitlab steps" if row["peer"] == "digitlab" else row["peer"]
        print(
            f"{label:18} {row['min_s']:8.3f} {row['median_s']:11.3f}  {ratio:>22}  {full:>16}"
            f"  {row['peak_rss_mb']:6.0f} MB"
        )
        if row["peer"] == "digitlab":
            print(f"{'digitlab full fit':18} {row['full_min_s']:8.3f} {row['full_median_s']:11.3f}")
    print(
        "ratios: min / median of digitlab over the peer (targets on the median); 'steps' is "
        "digitlab's training loop, 'full fit' adds the accuracy pass after the epoch"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data" / "fashion-mnist"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--peers", nargs="+", choices=PEERS, default=list(PEERS))
    parser.add_argument(
        "--threads",
        type=int,
        help="BLAS and OpenMP threads of every peer (default: what NumPy's BLAS uses here); "
        "1 keeps a shared machine's other work from stalling multi-threaded products",
    )
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "epoch_speed.json"))
    # a worker's arguments (the driver starts one process per measurement)
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
        "benchmark": "epoch_speed",
        "what": f"one epoch, {'-'.join(map(str, SIZES))}, batch {BATCH_SIZE}, SGD lr {LR}, "
        f"float32, {n} Fashion-MNIST training images",
        "rounds": args.rounds,
        "threads": threads,
        "threads_set_by": "--threads" if args.threads else "the BLAS default",
        "targets": TARGETS,
        "load_average_1_5_15_min": load,
        "results": rows,
    }
    write_report(args.json, report)


if __name__ == "__main__":
    main()

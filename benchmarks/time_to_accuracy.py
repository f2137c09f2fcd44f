"""Seconds to a test accuracy, as a user runs it: digitlab's MLP and conv net beside PyTorch's
and scikit-learn's, on the same data, from nothing to the mark (setup, training and the test
evaluation after every epoch included).

    python benchmarks/time_to_accuracy.py [--threads 1] [--data mnist-10k fashion-mnist]

Marks: 97% on mnist-10k (10,000 training images, the official test set), 89% on Fashion-MNIST
(60,000 / 10,000). Every peer trains with Adam (lr 0.001), batch 100, float32, and is tested
after each epoch; the time is the wall clock from building the network to the end of the first
epoch whose test accuracy reaches the mark (or the last epoch tried). The networks:

* MLP: 784-256-10 ReLU: digitlab `Trainer.fit` (its watcher and train-accuracy pass included),
  PyTorch `nn.Sequential`, scikit-learn `MLPClassifier(hidden_layer_sizes=(256,))` epoch by
  epoch with `partial_fit`;
* conv: the book's SimpleConvNet (30 5x5 filters, 2x2 max pooling, 100 hidden): digitlab
  `Trainer.fit`, PyTorch with the same layers (scikit-learn has no conv net).

Prints a table and writes benchmarks/results/time_to_accuracy.json.
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from pathlib import Path

import numpy as np

from epoch_speed import write_report

ROOT = Path(__file__).resolve().parents[1]
MARKS = {"mnist-10k": 0.97, "fashion-mnist": 0.89}
SOURCES = {
    "mnist-10k": "mnist-10k",
    "fashion-mnist": str(ROOT.parent / "shared/data/fashion-mnist"),
}
MAX_EPOCHS = {"mlp": 30, "conv": 10}
BATCH = 100


def load(name: str):
    from digitlab.datasets import load_dataset, to_inputs

    data = load_dataset(SOURCES[name], progress=False)
    return (
        to_inputs(data.x_train, np.float32),
        data.t_train.astype(np.intp),
        to_inputs(data.x_test, np.float32),
        data.t_test.astype(np.intp),
    )


def digitlab_run(kind: str, data, mark: float, seed: int) -> dict:
    from digitlab import SimpleConvNet, Trainer, TwoLayerNet
    from digitlab.train import Adam

    x, t, x_test, t_test = data
    start = time.perf_counter()
    if kind == "mlp":
        net = TwoLayerNet(784, 256, 10, "he", seed=seed, dtype="float32")
    else:
        net = SimpleConvNet(seed=seed, dtype="float32", weight_init_std="auto")

    class AtMark:
        def on_epoch_end(self, trainer, epoch):
            if trainer.history.test_acc[-1] >= mark:
                trainer.stop("reached the mark")

    trainer = Trainer(
        net,
        Adam(lr=0.001),
        epochs=MAX_EPOCHS[kind],
        batch_size=BATCH,
        seed=seed,
        callbacks=[AtMark()],
        progress=False,
        log=None,
    )
    history = trainer.fit(x, t, x_test, t_test)
    return _row(history.test_acc, time.perf_counter() - start, mark)


def pytorch_run(kind: str, data, mark: float, seed: int, threads: int) -> dict:
    import torch

    torch.set_num_threads(threads)
    torch.manual_seed(seed)
    x, t, x_test, t_test = (torch.from_numpy(a) for a in data)
    start = time.perf_counter()
    nn = torch.nn
    if kind == "mlp":
        model = nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    else:
        x, x_test = x.reshape(-1, 1, 28, 28), x_test.reshape(-1, 1, 28, 28)
        model = nn.Sequential(
            nn.Conv2d(1, 30, 5),
            nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Flatten(),
            nn.Linear(30 * 12 * 12, 100),
            nn.ReLU(),
            nn.Linear(100, 10),
        )
    optimizer = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    accuracies = []
    for _ in range(MAX_EPOCHS[kind]):
        model.train()
        for batch in torch.randperm(len(x), generator=generator).split(BATCH):
            optimizer.zero_grad()
            loss_fn(model(x[batch]), t[batch]).backward()
            optimizer.step()
        model.eval()
        with torch.no_grad():
            predicted = torch.cat([model(part).argmax(1) for part in x_test.split(1000)])
        accuracies.append(float((predicted == t_test).float().mean()))
        if accuracies[-1] >= mark:
            break
    return _row(accuracies, time.perf_counter() - start, mark)


def sklearn_run(data, mark: float, seed: int) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    x, t, x_test, t_test = data
    start = time.perf_counter()
    model = MLPClassifier(
        hidden_layer_sizes=(256,), batch_size=BATCH, learning_rate_init=0.001, random_state=seed
    )
    accuracies = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(MAX_EPOCHS["mlp"]):
            model.partial_fit(x, t, classes=np.arange(10))
            accuracies.append(float(np.mean(model.predict(x_test) == t_test)))
            if accuracies[-1] >= mark:
                break
    return _row(accuracies, time.perf_counter() - start, mark)


def _row(accuracies, seconds: float, mark: float) -> dict:
    reached = bool(accuracies) and accuracies[-1] >= mark
    return {
        "seconds": seconds,
        "reached": reached,
        "epochs": len(accuracies),
        "accuracy": accuracies[-1] if accuracies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", nargs="+", choices=MARKS, default=list(MARKS))
    parser.add_argument("--threads", type=int, default=1, help="BLAS and torch threads")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--json", default=str(ROOT / "benchmarks" / "results" / "time_to_accuracy.json")
    )
    args = parser.parse_args()
    if os.environ.get("OPENBLAS_NUM_THREADS") != str(args.threads):
        print(f"note: set OPENBLAS_NUM_THREADS={args.threads} before starting for NumPy's BLAS")
    rows = []
    for name in args.data:
        data, mark = load(name), MARKS[name]
        for kind in ("mlp", "conv"):
            peers = ["digitlab", "pytorch"] + (["scikit-learn"] if kind == "mlp" else [])
            for peer in peers:
                if peer == "digitlab":
                    result = digitlab_run(kind, data, mark, args.seed)
                elif peer == "pytorch":
                    result = pytorch_run(kind, data, mark, args.seed, args.threads)
                else:
                    result = sklearn_run(data, mark, args.seed)
                row = {"data": name, "mark": mark, "network": kind, "peer": peer, **result}
                rows.append(row)
                print(
                    f"{name:14} {kind:5} {peer:13} "
                    + (
                        f"{row['seconds']:7.1f} s to {mark:.0%} ({row['epochs']} epochs)"
                        if row["reached"]
                        else f"not {mark:.0%} in {row['epochs']} epochs "
                        f"({row['accuracy']:.2%}, {row['seconds']:.1f} s)"
                    ),
                    flush=True,
                )
    report = {
        "benchmark": "time_to_accuracy",
        "threads": args.threads,
        "seed": args.seed,
        "results": rows,
    }
    write_report(args.json, report)


if __name__ == "__main__":
    main()

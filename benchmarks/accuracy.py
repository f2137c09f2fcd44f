"""Test accuracy of single-hidden-layer networks against issue 5's bars, with several seeds.

    python benchmarks/accuracy.py mnist-10k                 # every configuration, seeds 0 1 2
    python benchmarks/accuracy.py fashion-mnist --seeds 0 1
    python benchmarks/accuracy.py fashion-mnist --config batchnorm-dropout sklearn-adam
    python benchmarks/accuracy.py all

The bars: mnist-10k (train on the 10,000 shipped images, test on the official 10,000) at least
97.0 %, fashion-mnist (60,000 / 10,000) at least 90.0 % and ahead of scikit-learn's
MLPClassifier of the same hidden size on the same data. A bar is met when every seed's test
accuracy reaches it. The accuracy is the network's after its last epoch (no peeking at the
test set to pick an epoch); the time is the whole fit (float32 for digitlab, and for
scikit-learn, which keeps float32 inputs in float32).

Fashion-MNIST is read from ../shared/data/fashion-mnist (or --data), mnist-10k from the copy
shipped with digitlab. Prints a table and writes benchmarks/results/accuracy.json.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from digitlab import Trainer
from digitlab.datasets import Augment, load_dataset, to_inputs
from digitlab.nn import MLP
from digitlab.train import SGD, Cosine, Momentum
from epoch_speed import write_report

ROOT = Path(__file__).resolve().parents[1]
DATA = {
    "mnist-10k": "mnist-10k",
    "fashion-mnist": str(ROOT.parent / "shared" / "data" / "fashion-mnist"),
}
#: issue 5's bars on the test accuracy
BARS = {"mnist-10k": 0.970, "fashion-mnist": 0.900}
BATCH_SIZE = 100


@dataclass(frozen=True)
class Digitlab:
    """A 784-hidden-10 ReLU network (He init, float32, batch 100) trained by digitlab's
    Trainer; `optimizer` makes a fresh optimizer for each run."""

    description: str
    hidden: int
    optimizer: Callable[[], object]
    epochs: int
    augment: Augment | None = None
    cosine: bool = False
    batchnorm: bool = False
    dropout: float = 0.0
    #: the configuration the data set's bar is judged on
    bar: bool = False
    #: the `digitlab train` options that train the same network (for seed 0)
    cli: str = ""

    def run(self, x, t, x_test, t_test, seed: int) -> dict:
        # without BatchNorm or dropout, the same network as TwoLayerNet(784, hidden, 10, "auto")
        network = MLP(
            784,
            [self.hidden],
            10,
            use_batchnorm=self.batchnorm,
            dropout=self.dropout,
            seed=seed,
            dtype="float32",
        )
        trainer = Trainer(
            network,
            self.optimizer(),
            epochs=self.epochs,
            batch_size=BATCH_SIZE,
            seed=seed,
            schedule=Cosine(self.epochs) if self.cosine else None,
            augment=self.augment,
            progress=False,
            log=None,
        )
        start = time.perf_counter()
        history = trainer.fit(x, t)
        seconds = time.perf_counter() - start
        return {
            "seed": seed,
            "test_accuracy": network.accuracy(x_test, t_test),
            "train_accuracy": history.train_acc[-1],
            "seconds": seconds,
        }


@dataclass(frozen=True)
class Sklearn:
    """scikit-learn's MLPClassifier with its defaults (adam, lr 0.001, batch 200, L2 1e-4),
    one hidden layer, `epochs` passes, early stopping off (its default too)."""

    description: str
    hidden: int
    epochs: int
    bar: bool = field(default=False, init=False)

    def run(self, x, t, x_test, t_test, seed: int) -> dict:
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.neural_network import MLPClassifier

        model = MLPClassifier(
            hidden_layer_sizes=(self.hidden,),
            max_iter=self.epochs,
            early_stopping=False,
            random_state=seed,
        )
        start = time.perf_counter()
        with warnings.catch_warnings():
            # a fixed number of epochs is the point: stopping "unconverged" is expected
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, t)
        seconds = time.perf_counter() - start
        return {
            "seed": seed,
            "test_accuracy": float(model.score(x_test, t_test)),
            "train_accuracy": float(model.score(x, t)),
            "seconds": seconds,
            "epochs_run": int(model.n_iter_),
        }


CONFIGS: dict[str, dict[str, Digitlab | Sklearn]] = {
    "mnist-10k": {
        "train-default": Digitlab(
            "`digitlab train`'s defaults: 784-256-10 ReLU (He init), SGD lr 0.5, 20 epochs",
            256,
            lambda: SGD(0.5),
            20,
            cli="digitlab train",
        ),
        "augment-cosine": Digitlab(
            "the defaults with augmentation (shifts up to 2 px, rotations up to 10°) and a "
            "cosine learning-rate schedule",
            256,
            lambda: SGD(0.5),
            20,
            augment=Augment(),
            cosine=True,
            bar=True,
            cli="digitlab train --augment --schedule cosine",
        ),
    },
    "fashion-mnist": {
        "train-default": Digitlab(
            "`digitlab train`'s defaults: 784-256-10 ReLU (He init), SGD lr 0.5, 20 epochs",
            256,
            lambda: SGD(0.5),
            20,
            cli="digitlab train --data ../shared/data/fashion-mnist",
        ),
        "batchnorm-dropout": Digitlab(
            "784-512-10 ReLU (He init) with BatchNorm and dropout 0.3 on the hidden layer, "
            "momentum 0.9 lr 0.05, cosine schedule, 30 epochs",
            512,
            lambda: Momentum(0.05, 0.9),
            30,
            cosine=True,
            batchnorm=True,
            dropout=0.3,
            bar=True,
            cli="digitlab train --data ../shared/data/fashion-mnist --hidden 512 --batchnorm "
            "--dropout 0.3 --optimizer momentum --lr 0.05 --schedule cosine --epochs 30",
        ),
        "sklearn-adam": Sklearn("scikit-learn MLPClassifier(512,), defaults, 30 epochs", 512, 30),
    },
}


def load(name: str, data: str | None) -> tuple[np.ndarray, ...]:
    """(x_train, t_train, x_test, t_test): float32 inputs in [0, 1], int labels."""
    dataset = load_dataset(data or DATA[name], progress=False)
    return (
        to_inputs(dataset.x_train, np.float32),
        dataset.t_train.astype(np.intp),
        to_inputs(dataset.x_test, np.float32),
        dataset.t_test.astype(np.intp),
    )


def benchmark(name: str, configs: list[str], seeds: list[int], data: str | None) -> list[dict]:
    arrays = load(name, data)
    rows = []
    for config_name in configs:
        config = CONFIGS[name][config_name]
        runs = []
        for seed in seeds:
            runs.append(config.run(*arrays, seed))
            print(
                f"  {name} {config_name} seed {seed}: {runs[-1]['test_accuracy']:.2%} "
                f"({runs[-1]['seconds']:.1f} s)",
                flush=True,
            )
        accuracies = [r["test_accuracy"] for r in runs]
        rows.append(
            {
                "data": name,
                "config": config_name,
                "description": config.description,
                "command": f"python benchmarks/accuracy.py {name} --config {config_name}",
                "cli": getattr(config, "cli", ""),
                "bar": BARS[name] if config.bar else None,
                "mean": statistics.mean(accuracies),
                "min": min(accuracies),
                "max": max(accuracies),
                "mean_seconds": statistics.mean(r["seconds"] for r in runs),
                "runs": runs,
            }
        )
    by_config = {row["config"]: row for row in rows}
    for row in rows:
        if row["bar"] is not None:
            row["bar_met"] = row["min"] >= row["bar"]
            sklearn = by_config.get("sklearn-adam")
            if sklearn is not None:
                row["ahead_of_sklearn"] = row["mean"] > sklearn["mean"]
    return rows


def print_table(rows: list[dict]) -> None:
    print(
        f"{'data':14} {'config':16} {'seeds':>5} {'mean':>7} {'min':>7} {'max':>7} "
        f"{'s/run':>6}  bar"
    )
    for row in rows:
        verdict = ""
        if row["bar"] is not None:
            verdict = f">= {row['bar']:.1%}: {'met' if row['bar_met'] else 'NOT met'}"
            if "ahead_of_sklearn" in row:
                verdict += f", {'ahead of' if row['ahead_of_sklearn'] else 'NOT ahead of'} sklearn"
        print(
            f"{row['data']:14} {row['config']:16} {len(row['runs']):>5} {row['mean']:7.2%} "
            f"{row['min']:7.2%} {row['max']:7.2%} {row['mean_seconds']:6.1f}  {verdict}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", choices=[*CONFIGS, "all"])
    parser.add_argument("--config", nargs="+", help="configurations to run (default: all)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--data", help="folder of the data set's IDX files (one data set only)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "accuracy.json"))
    args = parser.parse_args()
    names = list(CONFIGS) if args.dataset == "all" else [args.dataset]
    if args.data and len(names) > 1:
        parser.error("--data names the folder of one data set; choose mnist-10k or fashion-mnist")
    rows = []
    for name in names:
        configs = args.config or list(CONFIGS[name])
        unknown = sorted(set(configs) - set(CONFIGS[name]))
        if unknown:
            parser.error(
                f"{name} has no configuration {unknown}; choose from {list(CONFIGS[name])}."
            )
        rows += benchmark(name, configs, args.seeds, args.data)
    print_table(rows)
    report = {
        "benchmark": "accuracy",
        "seeds": args.seeds,
        "results": rows,
    }
    write_report(args.json, report)


if __name__ == "__main__":
    main()

"""Random search: seeded, scored on validation data only, written as a table, JSON and a plot."""

import json
import math

import pytest
from PIL import Image

from digitlab.cli import main
from digitlab.config import TrainConfig
from digitlab.datasets import Dataset, load_dataset
from digitlab.errors import ConfigError
from digitlab.search import SearchSpace, random_search

SMALL = SearchSpace(lr=(0.05, 1.0), weight_decay=(1e-6, 1e-3), hidden=(8, 16), dropout=(0, 0.3))


@pytest.fixture(scope="module")
def training_data(mnist_10k_inputs):
    x, t = mnist_10k_inputs[0][:1500], mnist_10k_inputs[1][:1500]
    return x, t


def run(training_data, seed):
    base = TrainConfig(epochs=1, batch_size=100, validation=0.2, seed=seed)
    return random_search(*training_data, base, SMALL, trials=4, classes=10, progress=False)


def test_the_same_seed_draws_and_trains_the_same_trials(training_data):
    def without_time(result):
        return [{**t.to_dict(), "seconds": None} for t in result.trials]

    a, b = run(training_data, 3), run(training_data, 3)
    assert without_time(a) == without_time(b)
    assert without_time(run(training_data, 4)) != without_time(a)
    for trial in a.trials:
        config = trial.config
        assert 0.05 <= config.lr <= 1.0 and 1e-6 <= config.weight_decay <= 1e-3
        assert config.hidden in ((8,), (16,)) and 0 <= config.dropout <= 0.3
        assert config.epochs == 1 and config.validation == 0.2
    assert (a.train_size, a.validation_size) == (1200, 300)


def test_the_best_trial_is_the_highest_validation_accuracy(training_data):
    result = run(training_data, 0)
    accuracies = [trial.val_acc for trial in result.trials]
    assert result.best.val_acc == max(accuracies)
    assert [t.val_acc for t in result.ranked()] == sorted(accuracies, reverse=True)
    lines = result.table().splitlines()
    assert lines[0].split() == [
        "trial", "lr", "weight", "decay", "hidden", "dropout", "val", "acc", "val", "loss",
        "seconds",
    ]  # fmt: skip
    assert lines[1].split()[0] == str(result.best.number) and len(lines) == 5


def test_search_cli_writes_table_json_plot_and_never_reads_the_test_set(
    tmp_path, capsys, monkeypatch
):
    class Untouchable:
        """Stands in for the test set: any use of it fails the test."""

        def __getattr__(self, name):
            raise AssertionError(f"the search read the test set ({name})")

        def __len__(self):
            raise AssertionError("the search read the test set (len)")

    real = load_dataset("mnist-10k", progress=False)
    unseen = Untouchable()
    blinded = Dataset(
        real.name, real.x_train, real.t_train, unseen, unseen, real.classes, real.source
    )
    monkeypatch.setattr("digitlab.datasets.load_dataset", lambda *a, **k: blinded)
    out = tmp_path / "search"
    args = ["search", "--trials", "3", "--epochs", "1", "--subset", "1000", "--hidden", "8,16"]
    args += ["--weight-decay", "0", "--seed", "2", "--no-progress", "--out", str(out)]
    assert main(args) == 0
    stdout = capsys.readouterr().out
    assert "3 trials of 1 epochs on 1,000 training images of mnist-10k, 200 of them" in stdout
    saved = json.loads((out / "search.json").read_text())
    trials = saved["trials"]
    assert [t["trial"] for t in trials] == [1, 2, 3]
    assert all(t["weight_decay"] == 0 and t["hidden"] in ([8], [16]) for t in trials)
    best = max(trials, key=lambda t: t["val_acc"])
    assert saved["best"] == best["trial"]
    assert f"best: trial {best['trial']}, validation accuracy {best['val_acc']:.2%}" in stdout
    assert f"digitlab train --config {out / 'best-config.json'}" in stdout
    full = json.loads((out / "best-config.json").read_text())
    assert full["lr"] == best["lr"] and full["hidden"] == best["hidden"]
    assert full["epochs"] == TrainConfig().epochs
    assert "digitlab train --hidden " in stdout and f"--lr {best['lr']}" in stdout
    with Image.open(out / "search.png") as image:
        image.verify()
        assert image.format == "PNG"


def test_a_diverging_trial_is_recorded_not_fatal(training_data):
    space = SearchSpace(lr=(50, 50), weight_decay=(0, 0), hidden=(8,), dropout=(0, 0))
    base = TrainConfig(epochs=1, validation=0.2)
    result = random_search(*training_data, base, space, trials=1, classes=10, progress=False)
    trial = result.trials[0]
    # the watcher stops it at its first step: an update many times the weights' own size
    assert trial.stopped and ("diverges" in trial.stopped or "times its size" in trial.stopped)
    assert trial.val_loss is None or math.isfinite(trial.val_loss)
    json.dumps(result.to_dict(), allow_nan=False)  # valid JSON: no NaN


@pytest.mark.parametrize(
    ("space", "phrase"),
    [
        ({"lr": (0, 1)}, "lr=0 must be a positive number"),
        ({"lr": (1, 0.1)}, "lr range 1,0.1 is upside down"),
        ({"dropout": (0, 1)}, "dropout=1 must be a number in [0, 1)"),
        ({"hidden": ()}, "hidden=() must list sizes"),
    ],
)
def test_bad_ranges_are_named(space, phrase):
    with pytest.raises(ConfigError) as error:
        SearchSpace(**space)
    assert phrase in str(error.value)


def test_search_needs_a_validation_set(training_data):
    with pytest.raises(ConfigError, match="--validation is 0"):
        random_search(*training_data, TrainConfig(), SMALL, trials=1, classes=10)

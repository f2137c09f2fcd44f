"""The search on Optuna: seeded, scored on validation data only, written as a table, JSON and
plots; TPE and pruning; a study that resumes after kill -9 and is shared by processes and, through
PostgreSQL, by workers that each run the same command."""

import functools
import glob
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from PIL import Image

from digitlab.cli import main
from digitlab.datasets import Dataset, load_dataset
from digitlab.errors import ConfigError
from digitlab.workflows.config import TrainConfig
from digitlab.workflows.search import SearchSpace, search

SMALL = SearchSpace(lr=(0.05, 1.0), weight_decay=(1e-6, 1e-3), hidden=(8, 16), dropout=(0, 0.3))


@pytest.fixture(scope="module")
def training_data(mnist_10k_inputs):
    x, t = mnist_10k_inputs[0][:1500], mnist_10k_inputs[1][:1500]
    return x, t


def run(training_data, seed):
    base = TrainConfig(epochs=1, batch_size=100, validation=0.2, seed=seed)
    return search(*training_data, base, SMALL, trials=4, classes=10, progress=False)


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
        "epochs", "seconds",
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
    calls = []

    def blinded_dataset(*args, **kwargs):
        calls.append(args)
        return blinded

    # wherever the command takes load_dataset from (the package, its module, its own import)
    monkeypatch.setattr("digitlab.datasets.load_dataset", blinded_dataset)
    monkeypatch.setattr("digitlab.datasets.dataset.load_dataset", blinded_dataset)
    monkeypatch.setattr("digitlab.cli.search.load_dataset", blinded_dataset, raising=False)
    out = tmp_path / "search"
    args = ["search", "--trials", "3", "--epochs", "1", "--subset", "1000", "--hidden", "8,16"]
    args += ["--weight-decay", "0", "--seed", "2", "--no-progress", "--out", str(out)]
    assert main(args) == 0
    assert len(calls) == 1  # the search read its data through the blinded loader, not around it
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
    for name in ("search.png", "search-history.png"):
        with Image.open(out / name) as image:
            image.verify()
            assert image.format == "PNG"
    assert (out / "study.log").is_file()  # the study, for --resume


def test_a_diverging_trial_is_recorded_not_fatal(training_data):
    space = SearchSpace(lr=(50, 50), weight_decay=(0, 0), hidden=(8,), dropout=(0, 0))
    base = TrainConfig(epochs=1, validation=0.2)
    result = search(*training_data, base, space, trials=1, classes=10, progress=False)
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
        search(*training_data, TrainConfig(), SMALL, trials=1, classes=10)


# -- TPE, pruning, processes, resuming ---------------------------------------------------------


def test_tpe_with_median_pruning_stops_hopeless_trials(training_data):
    """Trials whose validation accuracy after an epoch is below the median of the finished ones
    at that epoch are stopped there: fewer epochs, a reason, and no later epoch trained."""
    space = SearchSpace(lr=(1e-4, 2.0), weight_decay=(0, 0), hidden=(8, 32), dropout=(0, 0))
    base = TrainConfig(epochs=4, batch_size=100, validation=0.2, seed=0)
    result = search(
        *training_data, base, space, trials=10, classes=10, sampler="tpe", pruner="median",
        progress=False,
    )  # fmt: skip
    assert len(result.trials) == 10
    pruned = [t for t in result.trials if t.stopped and t.stopped.startswith("pruned")]
    assert pruned and all(1 < t.epochs < 4 for t in pruned)  # judged from the second epoch
    assert all(t.epochs == 4 for t in result.trials if t not in pruned and not t.stopped)
    assert result.to_dict()["sampler"] == "tpe" and result.to_dict()["pruner"] == "median"


def test_two_processes_run_the_requested_trials_once_each(training_data, tmp_path):
    from digitlab.workflows.study import QUEUED, finished_trials, open_storage, optuna_module

    base = TrainConfig(epochs=1, batch_size=100, validation=0.2, seed=0)
    storage = tmp_path / "study.log"
    result = search(
        *training_data, base, SMALL, trials=6, classes=10, storage=storage, jobs=2, progress=False
    )
    assert sorted(t.number for t in result.trials) == [1, 2, 3, 4, 5, 6]
    optuna = optuna_module()
    study = optuna.load_study(storage=open_storage(storage), study_name="digitlab-search")
    trained = [t for t in study.trials if "settings" in t.user_attrs]
    assert len(trained) == 6 and all(t.user_attrs[QUEUED] for t in trained)
    assert len(finished_trials(study)) == 6


def test_jobs_need_a_shared_storage(training_data):
    base = TrainConfig(epochs=1, validation=0.2)
    with pytest.raises(ConfigError, match="--jobs 2 needs a storage"):
        search(*training_data, base, SMALL, trials=2, classes=10, jobs=2)


def test_a_study_is_joined_only_with_the_same_settings(training_data, tmp_path):
    base = TrainConfig(epochs=1, batch_size=100, validation=0.2, seed=0)
    storage = tmp_path / "study.log"
    search(*training_data, base, SMALL, trials=2, classes=10, storage=storage, progress=False)
    again = search(*training_data, base, SMALL, trials=2, classes=10, storage=storage)
    assert len(again.trials) == 2  # joined: nothing left to run, nothing run twice
    with pytest.raises(ConfigError, match=r"other settings \(base, space\)"):
        search(*training_data, base.changed(epochs=2), SearchSpace(), trials=2, classes=10,
               storage=storage)  # fmt: skip


#: a search as a command, its trials small: what these tests prove is about trials, not learning
SEARCH = ["-m", "digitlab", "search", "--epochs", "1", "--subset", "2000", "--hidden", "50"]
SEARCH += ["--weight-decay", "0", "--dropout", "0", "--no-progress"]
#: trials long enough for the kill to land between the end of the second and that of the last
#: (four trials of margin)
KILLABLE = ["--epochs", "2", "--hidden", "100", "--trials", "6"]


def test_a_search_killed_mid_way_resumes_losing_and_redoing_nothing(tmp_path, capsys):
    """kill -9 while trials run; --resume finishes the search: the trials finished before the
    kill are kept as they were, the one cut short is run anew, and there are exactly --trials."""
    from digitlab.workflows.study import finished_trials, open_storage, optuna_module

    optuna = optuna_module()
    out = tmp_path / "search"
    command = [sys.executable, *SEARCH, *KILLABLE, "--out", str(out)]
    with subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE) as process:
        deadline = time.monotonic() + 120
        before = []
        while len(before) < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.05)
            if (out / "study.log").exists():
                study = optuna.load_study(
                    storage=open_storage(out / "study.log"), study_name="digitlab-search"
                )
                before = finished_trials(study)
        process.send_signal(signal.SIGKILL)
    assert 2 <= len(before) < 6, "the search ended before it could be killed"
    assert main(["search", "--resume", str(out), "--no-progress"]) == 0
    assert "6 trials of 2 epochs on 2,000 training images" in capsys.readouterr().out
    study = optuna.load_study(storage=open_storage(out / "study.log"), study_name="digitlab-search")
    after = finished_trials(study)
    assert len(after) == 6 and len({t.number for t in after}) == 6
    kept = {t.number: t.user_attrs for t in after}
    assert all(kept[t.number] == t.user_attrs for t in before)  # not run again, not lost
    saved = json.loads((out / "search.json").read_text())
    assert len(saved["trials"]) == 6


def test_resume_releases_the_journal_lock_a_killed_search_left(tmp_path):
    """A search killed while it wrote leaves its journal's lock behind. Resuming (its processes
    are gone) releases it, where Optuna would wait 30 s first; a search that joins live workers
    leaves it to them."""
    from digitlab.workflows.study import open_storage

    journal = tmp_path / "study.log"
    lock = tmp_path / "study.log.lock"  # Optuna's lock: a symbolic link beside the journal
    lock.symlink_to(journal)
    open_storage(journal)
    assert lock.is_symlink()
    open_storage(journal, resume=True)
    assert not lock.is_symlink()
    open_storage(journal, resume=True)  # no lock: nothing to release, no error


def test_resume_refuses_settings_it_would_ignore(tmp_path, capsys):
    out = tmp_path / "s"
    out.mkdir()
    assert main(["search", "--resume", str(out), "--lr", "0.1", "--no-progress"]) == 2
    assert (
        "--resume continues the search with its own settings; drop --lr" in capsys.readouterr().err
    )


# -- workers on several machines share a study through PostgreSQL ------------------------------


def _unavailable(why: str) -> None:
    if os.environ.get("DIGITLAB_REQUIRE_POSTGRES") == "1":  # set by .ci/run
        pytest.fail(f"the PostgreSQL test is required here: {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def postgres():
    """A PostgreSQL server of the distribution's package, started for these tests on a free
    port of 127.0.0.1 in a folder of its own (as the postgres user when run as root); its URL."""
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[test]')")
    found = [shutil.which("initdb"), *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))]
    initdb = next((path for path in found if path), None)
    if initdb is None:
        _unavailable("no PostgreSQL server on this machine (Debian: apt-get install postgresql)")
    pg_ctl = str(Path(initdb).with_name("pg_ctl"))
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    folder = Path(tempfile.mkdtemp(prefix="digitlab-pg-"))
    if as_postgres:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    run = functools.partial(subprocess.run, check=True, capture_output=True, text=True)
    run([*as_postgres, initdb, "-D", data, "-U", "digitlab", "--auth=trust", "--no-sync"])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off"
    run([*as_postgres, pg_ctl, "-D", data, "-o", options, "-l", folder / "log", "-w", "start"])
    try:
        yield f"postgresql+psycopg://digitlab@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*as_postgres, pg_ctl, "-D", data, "-m", "immediate", "stop"], check=False)
        shutil.rmtree(folder, ignore_errors=True)


def test_two_workers_share_one_study_through_postgresql(postgres, tmp_path):
    """Two processes started with the same command, as on two machines: together they run
    exactly the requested trials, each once."""
    from digitlab.workflows.study import QUEUED, finished_trials, open_storage, optuna_module

    shared = ["--storage", postgres, "--study", "shared", "--trials", "6"]
    workers = [
        subprocess.Popen(
            [sys.executable, *SEARCH, *shared, "--out", str(tmp_path / name)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("machine-a", "machine-b")
    ]
    errors = [worker.communicate(timeout=300)[1] for worker in workers]  # both, then judge
    assert [worker.returncode for worker in workers] == [0, 0], errors
    storage = open_storage(postgres)
    try:
        study = optuna_module().load_study(storage=storage, study_name="shared")
        trained = [t for t in study.trials if "settings" in t.user_attrs]
        finished = finished_trials(study)
    finally:
        storage.engine.dispose()  # the pool's connections, closed now rather than at exit
    assert len(trained) == 6 and all(t.user_attrs[QUEUED] for t in trained)
    assert len(finished) == 6 and len({t.number for t in trained}) == 6
    # a worker with other settings is refused, not mixed in
    odd = subprocess.run(
        [sys.executable, *SEARCH, *shared, "--epochs", "3", "--out", str(tmp_path / "odd")],
        capture_output=True,
        text=True,
    )
    assert odd.returncode == 1 and "was started with other settings" in odd.stderr


def test_hyperband_runs_every_queued_trial_and_prunes_by_epochs(training_data):
    space = SearchSpace(lr=(1e-4, 2.0), weight_decay=(0, 0), hidden=(8, 32), dropout=(0, 0))
    base = TrainConfig(epochs=3, batch_size=100, validation=0.2, seed=1)
    result = search(
        *training_data, base, space, trials=8, classes=10, pruner="hyperband", progress=False
    )
    assert sorted(t.number for t in result.trials) == list(range(1, 9))
    for trial in result.trials:
        if (trial.stopped or "").startswith("pruned after epoch"):
            assert trial.epochs == int(trial.stopped.split()[-1]) <= 3
        elif not trial.stopped:  # (the watcher stops a diverging one, with its own reason)
            assert trial.epochs == 3

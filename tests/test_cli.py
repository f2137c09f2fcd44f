"""`digitlab train` end to end, and one clear line for every bad argument."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitlab import History, modelfile
from digitlab.cli import main


def test_train_writes_every_promised_file(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--epochs", "2", "--hidden", "32", "--out", str(out), "--no-progress"])
    assert code == 0
    stdout = capsys.readouterr().out
    assert "epoch 2/2  loss " in stdout and "test accuracy" in stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "accuracy.png",
        "config.json",
        "findings.json",
        "history.json",
        "loss.png",
        "model.npz",
        "report",
        "report.html",
        "stats.npz",
    ]
    assert f"report: {out / 'report.html'}" in stdout
    for png in ("loss.png", "accuracy.png"):
        with Image.open(out / png) as image:
            image.verify()
            assert image.format == "PNG"
    history = History.load(out / "history.json")
    assert history.epochs == 2 and len(history.loss) == 200
    network = modelfile.load(out / "model.npz")
    assert network.sizes == [784, 32, 10]
    meta = network.metadata
    assert meta["dataset"] == "mnist-10k"
    assert meta["accuracy"]["test"] == history.test_acc[-1] > 0.85
    assert meta["normalization"]["scale"] == "pixel / 255"
    assert meta["digitlab_version"]
    assert json.loads((out / "config.json").read_text())["hidden"] == [32]
    # a healthy run: the training watcher found nothing that is an error
    findings = json.loads((out / "findings.json").read_text())
    assert isinstance(findings, list) and all(f["severity"] != "error" for f in findings)
    with np.load(out / "model.npz", allow_pickle=False) as npz:
        assert npz["W1"].shape == (784, 32)


def test_same_seed_same_model(tmp_path, mnist_2k_folder):
    args = ["train", "--epochs", "1", "--hidden", "16", "--no-progress", "--seed", "3"]
    args += ["--data", mnist_2k_folder]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    assert main([*args, "--out", str(tmp_path / "b")]) == 0
    a, b = modelfile.load(tmp_path / "a/model.npz"), modelfile.load(tmp_path / "b/model.npz")
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)


@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (["--epochs", "-1"], 2, "'--epochs': -1 is not in the range x>=1"),
        (["--lr", "0"], 2, "'--lr'"),
        (["--batch-size", "abc"], 2, "'abc' is not a valid integer"),
        (["--data", "/no/such/folder"], 1, "unknown data set '/no/such/folder'"),
    ],
)
def test_bad_arguments_get_one_clear_line(tmp_path, capsys, args, code, phrase):
    assert main(["train", "--out", str(tmp_path / "run"), *args]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("digitlab: ")
    assert phrase in err
    assert "Traceback" not in err


def test_unwritable_out_fails_before_training(tmp_path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    assert main(["train", "--out", str(blocker / "run"), "--no-progress"]) == 1
    captured = capsys.readouterr()
    assert "cannot write the run to --out" in captured.err
    assert "epoch" not in captured.out


@pytest.mark.parametrize(
    "command",
    [[str(Path(sys.executable).with_name("digitlab"))], [sys.executable, "-m", "digitlab"]],
    ids=["console-script", "python-m"],
)
def test_the_command_runs_as_a_program(command):
    result = subprocess.run([*command, "--version"], capture_output=True, text=True)
    assert result.returncode == 0
    assert result.stdout.startswith("digitlab, version ")
    bad = subprocess.run([*command, "train", "--hidden", "0"], capture_output=True, text=True)
    assert bad.returncode == 2
    assert bad.stderr.startswith("digitlab: ") and "Traceback" not in bad.stderr


def test_gradcheck_prints_a_verdict_table(capsys):
    assert main(["gradcheck", "--hidden", "20", "--samples", "4", "--activation", "sigmoid"]) == 0
    out = capsys.readouterr().out
    assert "TwoLayerNet(784→20→10, sigmoid, float64)" in out
    assert "verdict: backpropagation is correct." in out
    assert "15,910 partial derivatives" in out


def test_gradcheck_checks_the_books_conv_net(capsys):
    assert main(["gradcheck", "--net", "simple-conv", "--samples", "4"]) == 0
    out = capsys.readouterr().out
    assert "SimpleConvNet(1x28x28 → Conv1 → Relu1 → Pool1 → Affine1" in out
    assert "verdict: backpropagation is correct." in out
    assert "W1      30x1x5x5" in out


def test_train_no_report_writes_no_page(tmp_path, mnist_2k_folder):
    out = tmp_path / "run"
    args = ["train", "--epochs", "1", "--hidden", "16", "--no-progress", "--no-report"]
    assert main([*args, "--data", mnist_2k_folder, "--out", str(out)]) == 0
    assert not (out / "report.html").exists() and not (out / "report").exists()
    assert (out / "stats.npz").is_file()


def test_train_checkpoint_and_resume_continue_the_run_exactly(tmp_path, capsys, mnist_2k_folder):
    """Two epochs with --checkpoint, then --resume to four, give the model of four epochs in
    one go: weights, history and recorded statistics."""
    args = ["train", "--hidden", "16", "--batch-size", "250", "--no-progress", "--no-report"]
    args += ["--seed", "2", "--data", mnist_2k_folder]
    assert main([*args, "--epochs", "4", "--out", str(tmp_path / "straight")]) == 0
    part = tmp_path / "part"
    assert main([*args, "--epochs", "2", "--checkpoint", "--out", str(part)]) == 0
    checkpoint = part / "checkpoint.npz"
    assert modelfile.load_checkpoint(checkpoint).epoch == 2
    capsys.readouterr()

    assert main(["train", "--resume", str(checkpoint), "--epochs", "4", "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert f"resuming {checkpoint} after epoch 2" in out
    assert "epoch 3/4" in out and "epoch 1/" not in out
    straight = modelfile.load(tmp_path / "straight/model.npz")
    resumed = modelfile.load(part / "model.npz")
    for name, array in straight.params.items():
        assert np.array_equal(resumed.params[name], array)
    resumed_history = History.load(part / "history.json").to_dict()
    straight_history = History.load(tmp_path / "straight/history.json").to_dict()
    del resumed_history["seconds"], straight_history["seconds"]  # wall-clock times differ
    assert resumed_history == straight_history
    assert modelfile.load_checkpoint(checkpoint).epoch == 4
    with np.load(part / "stats.npz") as a, np.load(tmp_path / "straight/stats.npz") as b:
        assert a["epochs"].tolist() == [0, 1, 2, 3, 4]
        assert np.array_equal(a["gradient_counts"], b["gradient_counts"])


def test_resume_refuses_what_cannot_be_continued(tmp_path, capsys, mnist_2k_folder):
    run = tmp_path / "run"
    args = ["train", "--hidden", "16", "--epochs", "1", "--batch-size", "500", "--no-progress"]
    args += ["--no-report", "--data", mnist_2k_folder]
    assert main([*args, "--checkpoint", "--out", str(run)]) == 0
    checkpoint = str(run / "checkpoint.npz")
    capsys.readouterr()
    cases = [
        (["--resume", checkpoint, "--hidden", "32"], "cannot change --hidden when resuming"),
        (["--resume", checkpoint, "--optimizer", "adam"], "cannot change --optimizer when"),
        (["--resume", checkpoint, "--validation", "0.1"], "cannot change --validation when"),
        (["--resume", checkpoint, "--config", str(run / "config.json")], "--config cannot be"),
        (["--resume", checkpoint, "--epochs", "1"], "already has 1 epochs"),
        (["--resume", str(run / "model.npz")], "it is a model file, not a checkpoint"),
        (["--resume", str(run / "absent.npz")], "no such file"),
    ]
    for extra, phrase in cases:
        assert main(["train", "--no-progress", *extra]) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and phrase in err, err


def test_config_file_repeats_a_run_bit_for_bit_and_options_override_it(
    tmp_path, capsys, mnist_2k_folder
):
    first = tmp_path / "first"
    args = ["train", "--hidden", "24,12", "--optimizer", "adam", "--dropout", "0.1"]
    args += ["--augment", "--rotation", "5", "--schedule", "cosine", "--warmup", "0.5"]
    args += ["--validation", "0.2", "--epochs", "2", "--batch-size", "250", "--seed", "5"]
    args += ["--data", mnist_2k_folder]
    assert main([*args, "--no-progress", "--no-report", "--out", str(first)]) == 0
    config = first / "config.json"
    again = tmp_path / "again"
    assert main(["train", "--config", str(config), "--no-report", "--out", str(again)]) == 0
    assert (again / "config.json").read_text() == config.read_text()
    a, b = modelfile.load(first / "model.npz"), modelfile.load(again / "model.npz")
    assert a.sizes == [784, 24, 12, 10]
    for name, array in a.params.items():
        assert np.array_equal(b.params[name], array)
    assert a.metadata["training"] == json.loads(config.read_text())
    assert a.metadata["training"]["seed"] == 5

    changed = tmp_path / "changed"
    override = ["--config", str(config), "--lr", "0.002", "--epochs", "1", "--no-report"]
    assert main(["train", *override, "--out", str(changed)]) == 0
    settings = json.loads((changed / "config.json").read_text())
    assert settings == {**json.loads(config.read_text()), "lr": 0.002, "epochs": 1}
    assert "Adam(lr=0.002" in capsys.readouterr().out


def test_new_options_reach_the_network_and_optimizer(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--hidden", "64", "--hidden", "32", "--optimizer", "momentum"]
    args += ["--momentum", "0.8", "--weight-decay", "1e-4", "--activation", "tanh"]
    args += ["--epochs", "1", "--batch-size", "500", "--no-progress", "--no-report"]
    assert main([*args, "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    assert "training MLP(784→64→32→10, tanh, float32)" in stdout
    assert "Momentum(lr=0.05, momentum=0.8, weight_decay=0.0001)" in stdout
    network = modelfile.load(out / "model.npz")
    assert network.sizes == [784, 64, 32, 10] and network.activation == "tanh"
    assert network.metadata["training"]["optimizer"] == "momentum"


def test_batchnorm_dropout_model_reloads_to_the_same_predictions(tmp_path):
    from digitlab.datasets import to_inputs
    from digitlab.workflows.config import TrainConfig
    from digitlab.workflows.run import train_run

    config = TrainConfig(hidden=(32,), batchnorm=True, dropout=0.2, epochs=1, batch_size=250)
    result = train_run(config, tmp_path / "run", progress=False, log=None, report=False)
    assert result.network.use_batchnorm and result.network.dropout == 0.2
    loaded = modelfile.load(tmp_path / "run/model.npz")
    x = to_inputs(result.dataset.x_test[:500])
    assert np.array_equal(loaded.predict(x), result.network.predict(x))
    assert loaded.metadata["accuracy"]["test"] == result.test_accuracy > 0.8


def test_early_stopping_keeps_the_best_epoch_and_needs_a_validation_set(tmp_path, capsys):
    out = tmp_path / "run"
    args = ["train", "--hidden", "16", "--epochs", "4", "--batch-size", "500", "--no-report"]
    args += ["--no-progress", "--lr", "2", "--validation", "0.1", "--early-stopping", "1"]
    # lr 2 diverges: the watcher stops the run and it fails (exit 1), with the best epoch kept
    assert main([*args, "--out", str(out)]) == 1
    assert "training diverged" in capsys.readouterr().err
    history = History.load(out / "history.json")
    assert history.best_epoch == 1 + int(np.argmax(history.val_acc))
    best = history.best_epoch - 1
    meta = modelfile.load(out / "model.npz").metadata
    assert meta["accuracy"]["test"] == history.test_acc[best]
    assert meta["accuracy"]["validation"] == history.val_acc[best]
    capsys.readouterr()

    assert main(["train", "--early-stopping", "3", "--out", str(tmp_path / "no")]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--early-stopping 3 watches a validation set" in err
    assert "add --validation 0.1" in err
    assert not (tmp_path / "no").exists()  # refused before anything was written


@pytest.mark.parametrize(
    ("args", "code", "phrase"),
    [
        (["--hidden", "512,a"], 2, "'512,a' is not a list of sizes"),
        (["--hidden", "0"], 2, "'0' is not a list of sizes"),
        (["--optimizer", "adagrad", "--beta1", "0.8"], 1, "--beta1 is a setting of --optimizer"),
        (["--rotation", "5"], 1, "--rotation applies to augmented runs only; add --augment"),
        (["--weight-init", "glorot"], 1, "weight_init='glorot' is not known"),
        (["--config", "/no/such.json"], 1, "cannot read the config file /no/such.json"),
    ],
)
def test_bad_settings_get_one_clear_line(tmp_path, capsys, args, code, phrase):
    assert main(["train", "--out", str(tmp_path / "run"), *args]) == code
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and phrase in err, err


def test_train_help_groups_its_options_in_english_and_chinese(capsys):
    assert main(["train", "--help"]) == 0
    english = capsys.readouterr().out
    assert "Optimizer:" in english and "Learning-rate schedule:" in english
    assert "--early-stopping PATIENCE" in english and "[default: mlp 256, simple-conv" in english
    # a fresh process: help texts are translated when the commands are first imported
    chinese = subprocess.run(
        [sys.executable, "-m", "digitlab", "--lang", "zh", "train", "--help"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "优化器:" in chinese and "早停" in chinese and "[默认：0.9]" in chinese


def test_main_leaves_the_callers_warning_format_as_it_was():
    import warnings

    before = warnings.formatwarning
    assert main(["--help"]) == 0
    assert warnings.formatwarning is before

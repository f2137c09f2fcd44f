"""`digitlab doctor MODULE:FACTORY` end to end: a report per finding, exit codes, the learner's
own data, the label form their loss takes, --json, and one clear line for every way the
learner's file or data can fail."""

import gzip
import json
import textwrap

import numpy as np
import pytest

from digitlab.cli import main
from digitlab.datasets import load_dataset
from digitlab.i18n import set_language

BOOK_NET = """
import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(a):
    {softmax}


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        rng = np.random.default_rng(0)
        self.params = {{}}
        self.params["W1"] = weight_init_std * rng.standard_normal((input_size, hidden_size))
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * rng.standard_normal((hidden_size, output_size))
        self.params["b2"] = np.zeros(output_size)

    def predict(self, x):
        z1 = sigmoid(x @ self.params["W1"] + self.params["b1"])
        return softmax(z1 @ self.params["W2"] + self.params["b2"])

    def loss(self, x, t):
        y = self.predict(x)
        return -np.sum(t * np.log(y + 1e-7)) / x.shape[0]

    def gradient(self, x, t):
        z1 = sigmoid(x @ self.params["W1"] + self.params["b1"])
        y = softmax(z1 @ self.params["W2"] + self.params["b2"])
        dy = (y - t) / x.shape[0]
        da1 = dy @ self.params["W2"].T * z1 * (1 - z1)
        return {{"W1": x.T @ da1, "b1": da1.sum(0), "W2": z1.T @ dy, "b2": dy.sum(0)}}


def make():
    return TwoLayerNet(784, 50, 10)
"""
ROW_SOFTMAX = (
    "a = a - a.max(axis=1, keepdims=True)\n"
    "    return np.exp(a) / np.exp(a).sum(axis=1, keepdims=True)"
)
BATCH_SOFTMAX = "a = a - np.max(a)\n    return np.exp(a) / np.sum(np.exp(a))"
#: a correct network whose loss and gradient take class indices only (t[i] is an int)
INDEX_NET = """
import numpy as np


class IndexNet:
    def __init__(self, input_size, output_size):
        rng = np.random.default_rng(0)
        self.params = {
            "W1": rng.standard_normal((input_size, 50)) / np.sqrt(input_size),
            "b1": np.zeros(50),
            "W2": rng.standard_normal((50, output_size)) / np.sqrt(50),
            "b2": np.zeros(output_size),
        }

    def forward(self, x):
        z1 = np.tanh(x @ self.params["W1"] + self.params["b1"])
        a = z1 @ self.params["W2"] + self.params["b2"]
        e = np.exp(a - a.max(axis=1, keepdims=True))
        return z1, e / e.sum(axis=1, keepdims=True)

    def predict(self, x):
        return self.forward(x)[1]

    def loss(self, x, t):
        y = self.predict(x)
        return -np.mean(np.log(y[np.arange(len(x)), t] + 1e-7))

    def gradient(self, x, t):
        z1, y = self.forward(x)
        dy = y.copy()
        dy[np.arange(len(x)), t] -= 1
        dy /= len(x)
        da1 = dy @ self.params["W2"].T * (1 - z1**2)
        return {"W1": x.T @ da1, "b1": da1.sum(0), "W2": z1.T @ dy, "b2": dy.sum(0)}
"""


@pytest.fixture(autouse=True)
def english(monkeypatch):
    for variable in ("LANGUAGE", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")
    yield
    set_language("en")


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_a_buggy_network_gets_a_report_and_exit_code_1(tmp_path, capsys):
    path = write(tmp_path, "mynet.py", BOOK_NET.format(softmax=BATCH_SOFTMAX))
    code = main(["doctor", f"{path}:TwoLayerNet", "--batch", "50", "--lr", "0.1"])
    out = capsys.readouterr().out
    assert code == 1
    assert out.startswith("examining TwoLayerNet from ")
    assert "[error] softmax-across-batch — predict()" in out
    assert "  fix: Take max and sum per row" in out
    assert "  evidence: " in out
    assert out.rstrip().splitlines()[-1].startswith("doctor: TwoLayerNet, 50 samples: ")


def test_a_correct_network_exits_0(tmp_path, capsys):
    path = write(tmp_path, "mynet.py", BOOK_NET.format(softmax=ROW_SOFTMAX))
    code = main(["doctor", f"{path}:make", "--lr", "0.1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "No problems found." in out


def test_index_labels_and_a_module_name(tmp_path, capsys, monkeypatch):
    write(
        tmp_path,
        "relu_net.py",
        """
        from digitlab import TwoLayerNet

        def make():
            return TwoLayerNet(784, 100, 10, weight_init_std="he", seed=0)
        """,
    )
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["doctor", "relu_net:make", "--labels", "index", "--batch", "30"])
    assert code == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    ("source", "target", "phrase"),
    [
        ("def broken(:\n", "{path}:make", "cannot import {name}: SyntaxError"),
        ("import keras\n", "{path}:make", "ModuleNotFoundError: No module named 'keras'"),
        (
            "def make():\n    raise RuntimeError('no data')\n",
            "{path}:make",
            "make() raised RuntimeError: no data (at {file}:2)",
        ),
        (
            "def make():\n    return [1, 2]\n",
            "{path}:make",
            "make() returned a list without `params` and `loss(x, t)`",
        ),
        ("def make():\n    pass\n", "{path}:build", "has no build; it defines: make."),
        ("def make(depth):\n    pass\n", "{path}:make", "make needs the arguments depth"),
        ("", "learner", "is not MODULE:FACTORY"),
        ("", "{missing}:make", "no such file"),
        ("", "no_such_learner_module:make", "there is no no_such_learner_module.py here"),
        (  # a package found, a module in it not: the error is importlib's, at no line of theirs
            "",
            "json.no_such_part:make",
            "cannot import json.no_such_part: ModuleNotFoundError: No module named "
            "'json.no_such_part'.",
        ),
    ],
)
def test_every_failure_of_the_learners_file_is_one_line(tmp_path, capsys, source, target, phrase):
    path = write(tmp_path, "learner.py", source)
    missing = str(tmp_path / "nowhere.py")
    argv = ["doctor", target.format(path=path, missing=missing)]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("digitlab: "), err
    assert phrase.format(name=path, file="learner.py") in err
    assert "Traceback" not in err


def test_chinese_with_lang_zh(tmp_path, capsys):
    path = write(tmp_path, "mynet.py", BOOK_NET.format(softmax=BATCH_SOFTMAX))
    assert main(["--lang", "zh", "doctor", f"{path}:TwoLayerNet", "--batch", "50"]) == 1
    out = capsys.readouterr().out
    assert "[错误] softmax-across-batch — predict()" in out
    assert "修正：" in out and "依据：" in out
    assert main(["--lang", "zh", "doctor", f"{path}:nothing"]) == 1
    assert "没有 nothing" in capsys.readouterr().err


def test_chinese_from_the_locale_english_by_default(tmp_path, capsys, monkeypatch):
    path = write(tmp_path, "mynet.py", BOOK_NET.format(softmax=BATCH_SOFTMAX))
    assert main(["doctor", f"{path}:TwoLayerNet", "--batch", "20"]) == 1
    assert "[error] softmax-across-batch" in capsys.readouterr().out
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    assert main(["doctor", f"{path}:TwoLayerNet", "--batch", "20"]) == 1
    assert "[错误] softmax-across-batch" in capsys.readouterr().out


# -- the learner's own data ------------------------------------------------------------------


@pytest.fixture(scope="module")
def mnist_train():
    """The shipped mnist-10k training images (N, 28, 28) uint8 and labels."""
    data = load_dataset("mnist-10k")
    return data.x_train, data.t_train


@pytest.fixture(scope="module")
def digits_8x8(mnist_train):
    """300 real MNIST digits shrunk to 8x8 with values 0-16, as scikit-learn's load_digits has
    them: the central 24x24 pixels averaged over 3x3 blocks. uint8 (300, 8, 8) and labels."""
    images, labels = mnist_train
    blocks = images[:300, 2:26, 2:26].reshape(300, 8, 3, 8, 3).mean(axis=(2, 4))
    return np.round(blocks / 255 * 16).astype(np.uint8), labels[:300]


@pytest.fixture(scope="module")
def small_digits(tmp_path_factory, digits_8x8):
    """--data of the 8x8 digits scaled to [0, 1], flat: a small network examines in a blink."""
    path = tmp_path_factory.mktemp("data") / "small.npz"
    np.savez(path, x=digits_8x8[0].reshape(300, 64) / 16, t=digits_8x8[1])
    return ["--data", str(path)]


def doctor(tmp_path, capsys, *args, softmax=ROW_SOFTMAX):
    """Run `digitlab doctor` on the book's network (sizes from the data); (exit code, stdout,
    stderr)."""
    path = write(tmp_path, "mynet.py", BOOK_NET.format(softmax=softmax))
    code = main(["doctor", f"{path}:TwoLayerNet", "--batch", "40", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_an_npz_of_8x8_digits_is_examined_as_it_is(tmp_path, capsys, digits_8x8):
    x, t = digits_8x8
    np.savez(tmp_path / "digits.npz", X=x, y=t)
    code, out, _ = doctor(tmp_path, capsys, "--data", str(tmp_path / "digits.npz"))
    assert code == 1
    assert "on 40 images of digits.npz" in out
    # 0-16 given as stored, to a network made with 64 inputs (a mismatch would raise)
    assert "[error] input-not-normalized — x" in out
    assert "The inputs go up to 16 (mean " in out and "not scaled to [0, 1]" in out
    assert "network-raised" not in out


def test_8x8_digits_scaled_to_0_1_are_fine(tmp_path, capsys, small_digits):
    code, out, _ = doctor(tmp_path, capsys, *small_digits)
    assert code == 0, out
    assert "0 error(s), 0 warning(s)" in out


def test_a_kaggle_csv_of_raw_bytes(tmp_path, capsys, mnist_train):
    images, labels = mnist_train
    rows = ["label," + ",".join(f"pixel{i}" for i in range(784))]
    rows += [
        f"{label}," + ",".join(map(str, image.ravel()))
        for image, label in zip(images[:60], labels[:60], strict=True)
    ]
    (tmp_path / "train.csv").write_text("\n".join(rows) + "\n")
    code, out, _ = doctor(tmp_path, capsys, "--data", str(tmp_path / "train.csv"))
    assert code == 1
    assert "on 40 images of train.csv" in out
    assert "[error] input-not-normalized — x" in out and "go up to 255 " in out
    assert "network-raised" not in out


def test_an_idx_folder_of_8x8_digits(tmp_path, capsys, digits_8x8):
    folder = tmp_path / "my digits"
    folder.mkdir()
    for stem, array in (
        ("train-images-idx3-ubyte", digits_8x8[0]),
        ("train-labels-idx1-ubyte", digits_8x8[1]),
    ):
        header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
            n.to_bytes(4, "big") for n in array.shape
        )
        (folder / f"{stem}.gz").write_bytes(gzip.compress(header + array.tobytes()))
    code, out, _ = doctor(tmp_path, capsys, "--data", str(folder))
    assert code == 1
    assert "on 40 images of my digits" in out and "The inputs go up to 16 " in out
    assert "network-raised" not in out


def test_raw_gives_the_shipped_pixels_as_bytes(tmp_path, capsys):
    code, out, _ = doctor(tmp_path, capsys, "--raw")
    assert code == 1
    assert "[error] input-not-normalized — x" in out and "The inputs go up to 255 " in out
    # the same network on the images scaled to [0, 1]: test_a_correct_network_exits_0


# -- the label form the loss takes -----------------------------------------------------------


def test_a_loss_of_class_indices_gets_indices(tmp_path, capsys, small_digits):
    path = write(tmp_path, "indexnet.py", INDEX_NET)
    code = main(["doctor", f"{path}:IndexNet", *small_digits, "--lr", "0.1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "network-raised" not in out


def test_a_loss_of_one_hot_rows_gets_one_hot_rows(tmp_path, capsys, small_digits):
    code, out, _ = doctor(tmp_path, capsys, *small_digits, "--lr", "0.1")
    assert code == 0, out
    assert "network-raised" not in out


@pytest.mark.parametrize(("network", "labels"), [("book", "index"), ("indices", "one-hot")])
def test_labels_overrides_the_choice(tmp_path, capsys, small_digits, network, labels):
    # asked for, the form the loss cannot take is what it gets, and the doctor says so
    if network == "book":
        code, out, _ = doctor(tmp_path, capsys, *small_digits, "--labels", labels)
    else:
        path = write(tmp_path, "indexnet.py", INDEX_NET)
        code = main(["doctor", f"{path}:IndexNet", *small_digits, "--labels", labels])
        out = capsys.readouterr().out
    assert code == 1
    assert "[error] network-raised — loss()" in out


# -- --json ----------------------------------------------------------------------------------

FINDING_KEYS = {"code", "severity", "subject", "file", "line", "message", "fix", "evidence"}


def test_json_is_one_object_with_exit_code_1_for_an_error(tmp_path, capsys, small_digits):
    code, out, _ = doctor(tmp_path, capsys, *small_digits, "--json", softmax=BATCH_SOFTMAX)
    assert code == 1
    report = json.loads(out)  # the whole of stdout: no progress line
    assert set(report) == {"target", "steps_observed", "findings"}
    assert report["target"] == f"{tmp_path / 'mynet.py'}:TwoLayerNet"
    assert report["steps_observed"] == 0
    assert all(set(finding) == FINDING_KEYS for finding in report["findings"])
    softmax = [f for f in report["findings"] if f["code"] == "softmax-across-batch"]
    assert [(f["severity"], f["subject"]) for f in softmax] == [("error", "predict()")]
    assert softmax[0]["fix"].startswith("Take max and sum per row")
    assert softmax[0]["evidence"]["batch_sum"] == pytest.approx(1)


def test_json_of_a_healthy_network(tmp_path, capsys, small_digits):
    code, out, _ = doctor(tmp_path, capsys, *small_digits, "--json")
    assert code == 0
    assert all(f["severity"] == "info" for f in json.loads(out)["findings"])


# -- bad data and misused options: one line, no traceback ------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "phrase"),
    [
        ("digits.npz", None, "it has no array of images among pixels; name it one of x, X"),
        ("digits.csv", "label,a,b\n1,2,?\n", "could not convert string '?' to float64"),
        ("broken.npz", b"PK\x03\x04 not really", "it is not a readable .npz file"),
        ("missing.npz", False, "there is no such file or folder"),
        ("notes.txt", "seven", "neither a folder of IDX files, an .npz nor a .csv"),
        ("idx", b"\x00\x00\x08\x03", "the file ends inside its header"),
    ],
)
def test_bad_data_is_one_line(tmp_path, capsys, name, content, phrase):
    path = tmp_path / name
    if name == "idx":
        path.mkdir()
        (path / "train-images-idx3-ubyte").write_bytes(content)
        (path / "train-labels-idx1-ubyte").write_bytes(content)
    elif content is None:
        np.savez(path, pixels=np.zeros((3, 64)))
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content:
        path.write_text(content)
    code, out, err = doctor(tmp_path, capsys, "--data", str(path))
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and err.startswith(f"digitlab: cannot read {path}"), err
    assert phrase in err
    assert "Traceback" not in err


@pytest.mark.parametrize(
    ("args", "phrase"),
    [
        (["--steps", "5"], "--steps cannot be used with "),
        (["--raw", "--data", "elsewhere.npz"], "--raw applies to the shipped data sets"),
        (["--", "--epochs", "3"], "--epochs 3 after "),
    ],
)
def test_options_of_the_other_form_are_refused(tmp_path, capsys, args, phrase):
    code, _, err = doctor(tmp_path, capsys, *args)
    assert code == 2
    assert err.count("\n") == 1 and phrase in err, err

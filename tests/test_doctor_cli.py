"""`digitlab doctor MODULE:FACTORY` end to end: a report per finding, exit codes, and one clear
line for every way the learner's file can fail."""

import textwrap

import pytest

from digitlab.cli import main
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
        ("", "{path}", "is not MODULE:FACTORY"),
        ("", "{missing}:make", "no such file"),
        ("", "no_such_learner_module:make", "there is no no_such_learner_module.py here"),
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

"""The gallery of learner PROGRAMS under tests/programs, for `digitlab doctor PROGRAM.py`.

Each case is a whole program written the way learners of *Deep Learning from Scratch* write
them (globals and a bare loop, a params dict, arrays passed and returned, classes, per-sample
loops, the book's chapter layout), in plain NumPy, reading its data its own way from a path
given on the command line. The buggy ones each plant one or two bugs (or, for the five seed
stories in ../shared/seeds, the story's bugs re-expressed); the correct ones really learn.

Plain data: `CASES` names each program, its arguments, the finding codes of its planted bugs
and the codes acceptable as the doctor's FIRST finding (the true cause). `write_data` builds
the two derived data files some programs read (`digits8x8.npz`, `mnist.csv`) from real MNIST.
Nothing here imports digitlab.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: the folder of the programs
PROGRAMS = Path(__file__).resolve().parent / "programs"

#: the placeholders of `Case.args`, filled in by `Case.argv`
MNIST = "{mnist}"  # the mnist-10k folder (absolute path): gzipped IDX files
NPZ = "{npz}"  # digits8x8.npz written by write_data: X (N, 64) float 0-16, y (N,) int
CSV = "{csv}"  # mnist.csv written by write_data: a header, then label + 784 pixels 0-255

#: the style letters used in `Case.style` (the brief's list)
STYLES = {
    "a": "globals and a bare loop at module level, the forward inline",
    "b": "functions with a params dict (forward_prop, back_prop -> grads dict, update)",
    "c": "functions with arrays passed and returned (w1, b1, ... = update_param(...))",
    "d": "a class with other names (Net.w_ih/w_ho, Nielsen's lists of weights/biases, ...)",
    "e": "the book's style: TwoLayerNet with params['W1'], predict, loss, gradient",
    "f": "a per-sample loop accumulating gradients, then one update",
    "g": "prints only its loss",
    "h": "the training function called from `if __name__ == '__main__':`",
}


@dataclass(frozen=True)
class Case:
    """One learner program and what the doctor should find in it."""

    #: the case's unique name; also its folder under tests/programs unless `folder` says other
    name: str
    #: the script inside the folder, e.g. "train.py" or "ch05/train_neuralnet.py"
    program: str
    #: the program's arguments; "{mnist}", "{npz}", "{csv}" are filled in by `argv`
    args: tuple[str, ...]
    #: the planted bugs, as finding codes; () for a correct program
    bugs: tuple[str, ...]
    #: the codes acceptable for the doctor's FIRST finding (the true cause); empty if correct
    first: frozenset[str]
    #: "000".."004" for the seed stories
    story: str | None = None
    #: one line: what is planted and where (file:line of the bug)
    note: str = ""
    #: the folder under tests/programs when several cases share one (the book's chapters)
    folder: str = ""
    #: the styles it is written in, as letters of STYLES
    style: str = ""
    #: consequences a plain run shows and the doctor may also report (not planted themselves)
    symptoms: tuple[str, ...] = ()

    @property
    def directory(self) -> Path:
        """The case's folder."""
        return PROGRAMS / (self.folder or self.name)

    @property
    def path(self) -> Path:
        """The script to run."""
        return self.directory / self.program

    @property
    def correct(self) -> bool:
        return not self.bugs

    def argv(self, mnist: str | Path, data: Mapping[str, Path] | None = None) -> list[str]:
        """The arguments with the placeholders filled in: `mnist` the mnist-10k folder, `data`
        the paths `write_data` returned (needed only by the cases that read npz or csv)."""
        values = {MNIST: str(Path(mnist).resolve())}
        for key, placeholder in (("npz", NPZ), ("csv", CSV)):
            if data is not None and key in data:
                values[placeholder] = str(Path(data[key]).resolve())
        out = []
        for arg in self.args:
            if arg in (NPZ, CSV) and arg not in values:
                raise ValueError(f"{self.name} needs {arg}: pass write_data's paths")
            out.append(values.get(arg, arg))
        return out

    @property
    def needs(self) -> frozenset[str]:
        """Which derived files it reads: a subset of {"npz", "csv"}."""
        return frozenset(k for k, p in (("npz", NPZ), ("csv", CSV)) if p in self.args)


def _read_idx(path: Path, offset: int) -> np.ndarray:
    with gzip.open(path, "rb") as f:
        return np.frombuffer(f.read(), np.uint8, offset=offset)


def write_data(folder: str | Path, mnist: str | Path, n_digits: int = 500, n_csv: int = 2000):
    """Write `digits8x8.npz` and `mnist.csv` into `folder` from the mnist-10k training files in
    `mnist`, and return {"npz": path, "csv": path}.

    digits8x8.npz: the first `n_digits` images, cropped to their central 24x24, averaged over
    3x3 blocks to 8x8 and scaled to integers 0-16 (like scikit-learn's digits): `X` (N, 64)
    float64, `y` (N,) int64. mnist.csv: a header `label,pixel0,...,pixel783`, then the first
    `n_csv` images, one a row, label first, pixels 0-255.
    """
    folder, mnist = Path(folder), Path(mnist)
    folder.mkdir(parents=True, exist_ok=True)
    images = _read_idx(mnist / "train-images-idx3-ubyte.gz", 16).reshape(-1, 28, 28)
    labels = _read_idx(mnist / "train-labels-idx1-ubyte.gz", 8).astype(np.int64)

    crop = images[:n_digits, 2:26, 2:26].astype(np.float64)
    blocks = crop.reshape(-1, 8, 3, 8, 3).mean(axis=(2, 4))
    x8 = np.rint(blocks / 255.0 * 16.0).reshape(-1, 64)
    npz = folder / "digits8x8.npz"
    np.savez(npz, X=x8, y=labels[:n_digits])

    rows = np.column_stack([labels[:n_csv], images[:n_csv].reshape(-1, 784)]).astype(np.int64)
    header = ",".join(["label"] + [f"pixel{i}" for i in range(784)])
    csv = folder / "mnist.csv"
    np.savetxt(csv, rows, fmt="%d", delimiter=",", header=header, comments="")
    return {"npz": npz, "csv": csv}


# -- the cases ---------------------------------------------------------------------------------


def _case(name, bugs, first, note, style, args=(MNIST,), program="train.py", **kw) -> Case:
    return Case(
        name, program, tuple(args), tuple(bugs), frozenset(first), note=note, style=style, **kw
    )


STORIES: tuple[Case, ...] = (
    _case(
        "story000",
        [
            "input-not-normalized",
            "softmax-across-batch",
            "loss-not-averaged",
            "gradient-mismatch",
            "numerical-gradient-only",
        ],
        {"input-not-normalized"},
        "梯度一直为零: raw 0-255 pixels into sigmoid (train.py:90, no /255); softmax max and sum "
        "over the whole batch (train.py:36-38); cross-entropy summed, not averaged (train.py:42); "
        "trained with its own numerical gradient that loops over rows only, p[i] a view "
        "(train.py:49-56, used at :85): w1's gradient is 0 after a few steps, loss stuck ~182",
        "e",
        story="000",
        symptoms=("activations-saturated", "vanishing-gradient", "loss-stalled"),
    ),
    _case(
        "story001",
        ["loss-not-averaged", "init-too-large"],
        {"loss-not-averaged", "learning-rate-too-high"},
        "weights1/weights2 local to train(), U(-1,1) init (train.py:29-30); the adjustment is "
        "summed over all 10,000 samples and added with no learning rate (train.py:40-43; the += "
        "is right, error is target - output): after one update every output is ~0, error 0.1 "
        "forever",
        "h",
        story="001",
        symptoms=("activations-saturated", "vanishing-gradient", "loss-stalled"),
    ),
    _case(
        "story002",
        ["numerical-gradient-only"],
        {"numerical-gradient-only"},
        "a correct sigmoid TwoLayerNet (784-10-10, batch 10) trained only by its own "
        "per-coordinate central-difference numerical_gradient (train.py:49-62, called at "
        ":113): ~2 s a step",
        "e",
        story="002",
    ),
    _case(
        "story003",
        [
            "labels-invalid",
            "init-not-centered",
            "softmax-across-batch",
            "gradient-mismatch",
            "update-sign-flipped",
            "loss-not-averaged",
        ],
        {"labels-invalid", "update-sign-flipped", "gradient-sign-flipped", "loss-not-averaged"},
        "globals + params dict: np.random.rand init (train.py:42-45); softmax with the builtin "
        "sum, over the batch axis (train.py:57); 'softmax derivative' sigmoid_der(Z2) of the "
        "pre-activation (train.py:80); error y_onehot - A2 then params -= alpha*grads (flipped, "
        "train.py:80 and :90-93); gradients summed over 10,000 samples (train.py:82-85); labels "
        "kept as an (N,1) column and used to index A2 in the loss (train.py:39, :66, :98): NaN at "
        "epoch 1",
        "ab",
        story="003",
        symptoms=("exploding-gradient", "non-finite"),
    ),
    _case(
        "story004",
        ["input-not-normalized", "init-not-centered", "gradient-mismatch"],
        {"input-not-normalized", "init-not-centered", "gradient-mismatch"},
        "8x8 digits 0-16 used unscaled (train.py:95); np.random.rand init of all four arrays "
        "(train.py:11-14); tanh(z2) where dtanh(z2) belongs (train.py:50); per-sample loop, "
        "update with lr/m (train.py:89, correct); tanh output against one-hot targets: accuracy "
        "stuck ~0.09-0.11",
        "cf",
        args=(NPZ,),
        story="004",
        # a tanh output against one-hot targets is the story's own design, not planted here
        symptoms=("activations-saturated", "loss-stalled", "output-not-probability"),
    ),
)

VARIANTS: tuple[Case, ...] = (
    _case(
        "raw_pixels",
        ["input-not-normalized"],
        {"input-not-normalized"},
        "raw 0-255 pixels (train.py:12, no /255) into a He-initialized ReLU net: loss 15 at step "
        "0, then every hidden unit dies and the loss sits at 2.30",
        "ag",
        symptoms=("dead-units", "loss-stalled"),
    ),
    _case(
        "double_scaled",
        ["input-not-normalized"],
        {"input-not-normalized"},
        "pixels divided by 255 in load_data (train.py:17) and again in main (train.py:91): inputs "
        "at most 1/255, loss stays 2.30 for 3 epochs",
        "bh",
        args=("--data", MNIST),
        symptoms=("loss-stalled",),
    ),
    _case(
        "labels_octave",
        ["labels-invalid"],
        {"labels-invalid"},
        "one-hot built for classes 1..10 as in Octave (train.py:62): digit 0 gets an all-zero "
        "target row, d gets column d-1; loss falls but accuracy caps near 0.8 and 0 is never "
        "recognised",
        "c",
    ),
    _case(
        "labels_column",
        ["labels-invalid"],
        {"labels-invalid"},
        "labels kept as an (N,1) column (train.py:10) and subtracted from the (N,10) sigmoid "
        "output (train.py:34): broadcasting, MSE stuck ~20.4, accuracy ~0.09",
        "ag",
        args=(CSV,),
        symptoms=("loss-stalled",),
    ),
    _case(
        "rand_init",
        ["init-not-centered"],
        {"init-not-centered", "init-too-large"},
        "all-positive np.random.rand init of w1, b1, w2, b2 (train.py:18-21): every sigmoid "
        "saturated, loss 3-5, accuracy ~0.1",
        "c",
        symptoms=("activations-saturated", "loss-stalled"),
    ),
    _case(
        "init_std_one",
        ["init-too-large"],
        {"init-too-large"},
        "Net.w_ih and w_ho drawn with std 1.0 (train.py:12, :14) for 784 inputs, tanh hidden: "
        "cost 14 at first, 0.57 accuracy after an epoch",
        "dh",
        symptoms=("activations-saturated",),
    ),
    _case(
        "zero_init",
        ["init-too-small"],
        {"init-too-small"},
        "all weights np.zeros (train.py:22, :24), sigmoid hidden: every hidden unit stays "
        "identical (symmetry never broken), loss creeps 2.30 -> 1.6",
        "b",
    ),
    _case(
        "summed_grad",
        ["loss-not-averaged"],
        {"loss-not-averaged"},
        "output delta p - yb not divided by the batch of 256 (train.py:39; the loss too, "
        "train.py:37) with lr 0.1: summed loss jumps 600-3800, no learning",
        "ag",
        symptoms=("learning-rate-too-high",),
    ),
    _case(
        "per_sample_sum",
        ["loss-not-averaged"],
        {"loss-not-averaged"},
        "per-sample gradients summed over a batch of 100, then w -= lr * sum, no 1/batch "
        "(train.py:57-60), lr 0.5: every output saturates to 0, cost 0.5 forever",
        "fh",
        symptoms=("activations-saturated", "loss-stalled"),
    ),
    _case(
        "softmax_axis0",
        ["softmax-across-batch"],
        {"softmax-across-batch", "output-not-probability"},
        "softmax normalized over axis 0, the batch (train.py:19-20), in an x(N,D) @ W layout: "
        "loss pinned at 22.67, weights grow without bound",
        "bh",
        symptoms=("exploding-gradient", "loss-stalled"),
    ),
    _case(
        "softmax_whole_batch",
        ["softmax-across-batch"],
        {"softmax-across-batch", "output-not-probability"},
        "MLP.softmax takes max and sum over the whole batch, axis=None (train.py:20-21): loss "
        "climbs to ~17",
        "d",
    ),
    _case(
        "deriv_on_preact",
        ["gradient-mismatch"],
        {"gradient-mismatch"},
        "sigmoid_prime(a) = a(1-a) expects the activation but gets z1 (train.py:58): wrong dW1/db1,"
        " NaN after ~8 steps (samples as columns, (H,D) @ X(D,N))",
        "c",
        symptoms=("exploding-gradient", "non-finite"),
    ),
    _case(
        "deriv_on_activation",
        ["gradient-mismatch"],
        {"gradient-mismatch"},
        "sigmoid_grad(z) = s(z)(1-s(z)) expects z but gets the activations y and a1 "
        "(train.py:45-46): wrong dW2 and dW1; the loss still falls (slower): no visible symptom",
        "ag",
    ),
    _case(
        "plus_true_gradient",
        ["update-sign-flipped"],
        {"update-sign-flipped", "gradient-sign-flipped"},
        "update_params adds the true gradient, W + alpha*dW (train.py:62-65): loss climbs 2.3 -> "
        "24",
        "c",
    ),
    _case(
        "minus_target_error",
        ["update-sign-flipped"],
        {"update-sign-flipped", "gradient-sign-flipped"},
        "error = targets - outputs (train.py:28) then self.w_ho -= / self.w_ih -= (train.py:31-32)"
        ", one update per image: squared error climbs to 8.8",
        "d",
        symptoms=("activations-saturated",),
    ),
    _case(
        "tanh_for_dtanh",
        ["gradient-mismatch"],
        {"gradient-mismatch"},
        "np.tanh(z1) where 1 - tanh(z1)**2 belongs (train.py:43): wrong dW1/db1; loss falls but "
        "noisily and plateaus ~1.0 (0.81 train accuracy)",
        "bh",
    ),
    _case(
        "sigmoid_for_dsigmoid",
        ["gradient-mismatch"],
        {"gradient-mismatch"},
        "sigmoid(z1) where sigmoid(z1)(1-sigmoid(z1)) belongs (train.py:43): wrong dW1/dB1, but "
        "all factors positive so the cost still falls: no visible symptom",
        "af",
    ),
    _case(
        "transposed_dW2",
        ["gradient-mismatch"],
        {"gradient-mismatch"},
        "dW2 = dZ2.T @ A1, the transpose of A1.T @ dZ2 (train.py:45); W2 is 10x10 so the shape "
        "fits: loss plateaus 1.5-1.9",
        "c",
    ),
    _case(
        "missing_relu_mask",
        ["gradient-mismatch"],
        {"gradient-mismatch"},
        "the ReLU mask (h > 0) missing from d_h, so dw1/db1 are wrong (train.py:42); per-sample "
        "loop, one update per epoch: loss still falls about as fast as the fixed one",
        "af",
        args=(NPZ,),
    ),
    _case(
        "lr_50",
        ["learning-rate-too-high"],
        {"learning-rate-too-high"},
        "learning_rate = 50 (train.py:30); with a softmax that does not subtract the max "
        "(train.py:22) the loss is NaN from step 2",
        "ag",
        symptoms=("non-finite",),
    ),
    _case(
        "lr_tiny",
        ["learning-rate-too-low"],
        {"learning-rate-too-low"},
        "--lr defaults to 1e-6 (train.py:75): loss flat at ~2.4 for the whole epoch",
        "bh",
        args=("--data", MNIST),
        symptoms=("loss-stalled",),
    ),
    _case(
        "dead_relu_bias",
        ["dead-units"],
        {"dead-units"},
        "ReLU bias initialised to -3 (train.py:13): no hidden unit ever fires, loss 2.30",
        "dh",
        symptoms=("loss-stalled",),
    ),
    _case(
        "numgrad_rowwise",
        ["gradient-mismatch", "numerical-gradient-only"],
        {"gradient-mismatch", "numerical-gradient-only"},
        "its own numerical_gradient loops over x.shape[0] only (two_layer_net.py:20-27): on W1/W2 "
        "it nudges whole rows and returns one number per row; used to train (train.py:31): loss "
        "2.30 -> ~2.23 in 20 steps",
        "e",
    ),
    _case(
        "exp_overflow_nan",
        ["input-not-normalized", "init-too-large"],
        {"input-not-normalized"},
        "raw 0-255 pixels (train.py:11) and randn std 1 weights (train.py:26) make |z| ~ 2000; its "
        "hand-written tanh (exp(z)-exp(-z))/(exp(z)+exp(-z)) overflows to inf/inf (train.py:18): "
        "loss NaN from the first step",
        "ag",
        symptoms=("non-finite", "activations-saturated"),
    ),
    _case(
        "deep_sigmoid_small",
        ["init-too-small"],
        {"init-too-small", "vanishing-gradient"},
        "five sigmoid layers (784-64-64-64-64-10, W1..W5 in a params dict) initialised with std "
        "0.01 (train.py:23): |dW1| ~ 1e-9, loss stuck at 2.30",
        "bh",
        symptoms=("vanishing-gradient", "loss-stalled"),
    ),
    _case(
        "deep_relu_big",
        ["init-too-large"],
        {"init-too-large", "exploding-gradient"},
        "784-256-256-256-10 ReLU net, lists self.W/self.b, randn std 1 (train.py:11): logits in "
        "the thousands, loss ~25, max |W1| reaches 1e100",
        "d",
        symptoms=("exploding-gradient",),
    ),
    _case(
        "nielsen_raw",
        ["input-not-normalized"],
        {"input-not-normalized"},
        "Nielsen-style Network (lists, per-sample backprop summed over a mini-batch, "
        "self.weights = [w - ...]) fed raw 0-255 pixels (train.py:19): cost ~0.45 stays, "
        "~9% test accuracy",
        "df",
        symptoms=("activations-saturated", "loss-stalled"),
    ),
    _case(
        "no_softmax",
        ["output-not-probability"],
        {"output-not-probability"},
        "book-style TwoLayerNet whose predict returns raw scores, no softmax (train.py:28), fed to "
        "cross-entropy (train.py:32): loss NaN (log of negatives) while accuracy still rises",
        "e",
        symptoms=("non-finite",),
    ),
)

CORRECT: tuple[Case, ...] = (
    _case(
        "book",
        [],
        set(),
        "the book's chapter 5: layers TwoLayerNet (Affine/Relu/SoftmaxWithLoss) from "
        "ch05/two_layer_net.py, common/ and dataset/ reached by sys.path.append(os.pardir); std "
        "0.01, lr 0.1 (the book's): the loss falls slowly at first (2.30 -> 2.26 in 30 steps), "
        "then to ~0.25",
        "e",
        program="ch05/train_neuralnet.py",
    ),
    _case(
        "book_ch04",
        [],
        set(),
        "the book's chapter 4: sigmoid TwoLayerNet with its hand-derived gradient() "
        "(ch04/two_layer_net.py), lr 0.5",
        "e",
        program="ch04/train_neuralnet.py",
        folder="book",
    ),
    _case("ok_globals", [], set(), "globals, ReLU + softmax, He init, lr 0.1", "ag"),
    _case(
        "ok_params_dict",
        [],
        set(),
        "params dict, sigmoid + softmax, Xavier init, lr 1.0, 3 epochs (~0.93)",
        "bh",
        args=("--data", MNIST),
    ),
    _case(
        "ok_columns_csv",
        [],
        set(),
        "samples as columns, (H,D) @ X(D,N), full batch of 2,000 from the csv, U(-0.5,0.5) init",
        "c",
        args=(CSV,),
    ),
    _case(
        "ok_nielsen",
        [],
        set(),
        "Nielsen's network.py: lists of weights/biases, per-sample backprop summed over "
        "mini-batches of 10, eta 3.0, self.weights = [w - ...]",
        "df",
    ),
    _case(
        "ok_net_npz",
        [],
        set(),
        "class Net with w_ih/w_ho, one update per sample, error = target - output and += "
        "(correct), 8x8 digits scaled to 0.01-1",
        "dh",
        args=("--data", NPZ),
    ),
)

#: every case: the five stories, the planted-bug variants, the correct programs
CASES: tuple[Case, ...] = STORIES + VARIANTS + CORRECT

#: the cases by name
BY_NAME: dict[str, Case] = {case.name: case for case in CASES}

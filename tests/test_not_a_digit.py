"""Pictures that hold no digit: `predict` says so, and still reads real digits.

The refusal rates asserted here are those measured by `benchmarks/not_a_digit.py` (see the
README), less a margin for the smaller samples drawn here.
"""

import numpy as np
import pytest
from PIL import Image

from digitlab import modelfile
from digitlab.cli import main
from digitlab.datasets import load_dataset
from digitlab.i18n import current_language, set_language
from digitlab.imaging import predict
from digitlab.imaging.digit_check import (
    count_pieces,
    is_straight_line,
    largest_hole,
    letter_score,
    not_a_digit,
    solid_share,
)
from digitlab.imaging.non_digits import KINDS, non_digits

#: the least share of each kind of non-digit picture refused (measured on 1,000 of each: see
#: the README); letters are the hard case (an X is two crossing strokes, as an open 4 is)
REFUSED_AT_LEAST = {
    "dot": 0.95,
    "blob": 0.9,
    "filled square": 0.95,
    "line": 0.95,
    "letter": 0.75,
    "frame": 0.95,
    "noise": 0.75,
}


@pytest.fixture(scope="module")
def network():
    return modelfile.load_default()


@pytest.fixture(scope="module")
def test_digits():
    """300 real MNIST test digits drawn at random (seeded), uint8 (300, 28, 28)."""
    images = load_dataset("mnist-10k").x_test
    return images[np.random.default_rng(11).choice(len(images), size=300, replace=False)]


def test_real_digits_are_accepted(network, test_digits):
    accepted = [predict(network, digit).digit for digit in test_digits]
    assert np.mean(accepted) >= 0.99


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_of_non_digit_is_refused(network, kind):
    answers = [predict(network, picture) for picture in non_digits(kind, 40, seed=7)]
    assert set(REFUSED_AT_LEAST) == set(KINDS)
    assert np.mean([not answer.digit for answer in answers]) >= REFUSED_AT_LEAST[kind]
    for answer in answers:
        assert answer.digit == (answer.reason is None)


def white(width, height, ink=None):
    """A white picture width x height, black where `ink` (a (rows, columns) index) says."""
    picture = np.full((height, width), 255, np.uint8)
    if ink is not None:
        picture[ink] = 0
    return picture


@pytest.mark.parametrize(
    "picture",
    [
        white(100, 1),
        white(100, 1, np.s_[:, 40:60]),
        white(1, 100),
        white(8400, 280),
        white(8400, 280, np.s_[135:145, 3000:5000]),
        white(50, 50),
        np.zeros((50, 50), np.uint8),
    ],
    ids=["100x1", "100x1 dash", "1x100", "8400x280 blank", "8400x280 dash", "white", "black"],
)
def test_degenerate_pictures_answer_no_digit(network, picture):
    answer = predict(network, picture)
    assert not answer.digit and answer.reason
    assert repr(answer) == f"Prediction(no digit: {answer.reason})"
    assert answer.probabilities.sum() == pytest.approx(1)


# -- each check on pictures worked out by hand ---------------------------------------------------


def field():
    return np.zeros((28, 28))


def test_a_vertical_stroke_is_a_one_a_flat_one_a_line():
    upright, flat = field(), field()
    upright[4:24, 13:16] = 1
    flat[13:16, 4:24] = 1
    assert not is_straight_line(upright)
    assert is_straight_line(flat)


def test_solid_share_counts_the_ink_deeper_than_two_pixels():
    square, stroke = field(), field()
    square[4:24, 4:24] = 1  # 20x20: the inner 16x16 lies deeper than 2 pixels
    stroke[4:24, 12:16] = 1  # 4 wide: no pixel is 3 from both sides
    assert solid_share(square > 0.5) == pytest.approx(16 * 16 / 400)
    assert solid_share(stroke > 0.5) == 0


def test_pieces_and_holes():
    frame = field()
    frame[4:24, 4:24] = 1
    frame[6:22, 6:22] = 0  # an outline 2 wide round a 16x16 hole
    assert largest_hole(frame > 0.5) == (pytest.approx(16 * 16 / 400), 1.0)
    assert count_pieces(frame > 0.5) == 1
    dots = field()
    dots[2:26:6, 2:26:6] = 1  # 4x4 single pixels, none touching
    assert count_pieces(dots > 0.5) == 16
    assert not_a_digit(field()) is not None


def test_a_narrow_rectangular_frame_is_refused_and_a_zero_of_its_size_is_not():
    y, x = np.mgrid[0:28, 0:28]
    frame = field()
    frame[4:24, 8:20] = 1
    frame[6:22, 10:18] = 0  # 12 wide, 20 high: the hole is 0.53 of the box, under 0.6
    radius = ((y - 13.5) / 10) ** 2 + ((x - 13.5) / 6) ** 2
    zero = ((radius <= 1) & (radius >= 0.65)).astype(float)  # an ellipse in the same box
    share, rectangular = largest_hole(frame > 0.5)
    assert share == pytest.approx(8 * 16 / (12 * 20)) and rectangular == 1.0
    assert not_a_digit(frame) == "an empty frame, not a digit"
    assert largest_hole(zero > 0.5) == (pytest.approx(0.53, abs=0.01), pytest.approx(0.8))
    assert not_a_digit(zero) is None


def test_an_x_is_refused_as_a_letter_and_real_digits_are_not():
    x_mark = field()
    for i in range(4, 24):  # two strokes 2 pixels wide crossing in the middle
        x_mark[i, i - 1 : i + 1] = x_mark[i, 27 - i : 29 - i] = 1
    assert not_a_digit(x_mark) == "more like a letter than any digit the network learned from"
    assert letter_score(x_mark) > 0.99
    digits = load_dataset("mnist-10k").x_test[:20] / 255
    assert max(letter_score(digit) for digit in digits) < 0.5


# -- the command and the web page ----------------------------------------------------------------


def test_digitlab_predict_says_no_digit_found(tmp_path, capsys, test_digits):
    digit, dot = tmp_path / "digit.png", tmp_path / "dot.png"
    Image.fromarray(test_digits[0]).save(digit)
    Image.fromarray(non_digits("dot", 1)[0]).save(dot)
    assert main(["predict", str(digit), str(dot), "--show", "--show-dir", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith(f"{digit}: ") and "no digit" not in lines[0]
    assert lines[1].startswith(f"{dot}: no digit found (a filled shape")
    assert (tmp_path / "dot-seen.png").is_file()  # what it saw, refused or not


def test_digitlab_predict_says_it_in_chinese(tmp_path, capsys):
    blank = tmp_path / "blank.png"
    Image.new("L", (60, 60), 255).save(blank)
    before = current_language()
    try:
        assert main(["--lang", "zh", "predict", str(blank)]) == 0
    finally:
        set_language(before)  # --lang sets the process's language; later tests expect theirs
    assert capsys.readouterr().out.startswith("没有找到数字（")

"""Pictures that hold no digit: dots, blobs, filled squares, lines, letters, noise and frames.

They are what a learner's camera or mouse also produces, and what `predict` must refuse instead
of reading as a confident digit. Each kind is drawn with Pillow's ImageDraw in a 112x112 picture,
at a random place, size and stroke width, half of them dark on light and half light on dark, the
way a digit would be drawn: `tests/test_not_a_digit.py` and `benchmarks/not_a_digit.py` measure
how many of each `predict` refuses.

Lines stay within 35 degrees of horizontal and letters avoid the shapes of digits (no O, I, l, S,
Z, B, G): a vertical stroke *is* a 1, and an O a 0.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PIL import Image, ImageDraw

SIZE = 112  #: side of each picture, as a digit written 4x MNIST's size
#: letters as strokes on a unit square (x right, y down): none looks like a digit
LETTERS = {
    "X": [[(0, 0), (1, 1)], [(1, 0), (0, 1)]],
    "A": [[(0, 1), (0.5, 0), (1, 1)], [(0.25, 0.55), (0.75, 0.55)]],
    "H": [[(0, 0), (0, 1)], [(1, 0), (1, 1)], [(0, 0.5), (1, 0.5)]],
    "K": [[(0, 0), (0, 1)], [(1, 0), (0, 0.55), (1, 1)]],
    "M": [[(0, 1), (0, 0), (0.5, 0.6), (1, 0), (1, 1)]],
    "N": [[(0, 1), (0, 0), (1, 1), (1, 0)]],
    "W": [[(0, 0), (0.25, 1), (0.5, 0.4), (0.75, 1), (1, 0)]],
    "E": [[(1, 0), (0, 0), (0, 1), (1, 1)], [(0, 0.5), (0.7, 0.5)]],
    "F": [[(1, 0), (0, 0), (0, 1)], [(0, 0.5), (0.7, 0.5)]],
    "R": [[(0, 1), (0, 0), (0.8, 0), (1, 0.25), (0.8, 0.5), (0, 0.5), (1, 1)]],
}

Draw = Callable[[ImageDraw.ImageDraw, np.random.Generator], None]


def dot(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    """A pen's dot: a filled disk 4 to 24 pixels across."""
    radius = rng.uniform(2, 12)
    x, y = rng.uniform(20, SIZE - 20, size=2)
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=255)


def blob(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    """A smudge: a filled polygon with a wobbly outline, 30 to 80 pixels across."""
    centre = rng.uniform(45, SIZE - 45, size=2)
    angles = np.sort(rng.uniform(0, 2 * np.pi, size=9))
    radii = rng.uniform(15, 40) * rng.uniform(0.6, 1.0, size=9)
    points = centre + np.stack([np.cos(angles), np.sin(angles)], axis=1) * radii[:, None]
    draw.polygon([tuple(p) for p in points], fill=255)


def filled_square(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    """A filled rectangle, its sides 30 to 80 pixels, aspect within 0.7 to 1.4."""
    width = rng.uniform(30, 80)
    height = width * rng.uniform(0.7, 1.4)
    left, top = rng.uniform(5, SIZE - width - 5), rng.uniform(5, max(6, SIZE - height - 5))
    draw.rectangle((left, top, left + width, top + height), fill=255)


def line(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    """A straight stroke 40 to 100 pixels long within 35 degrees of horizontal."""
    length, angle = rng.uniform(40, 100), np.deg2rad(rng.uniform(-35, 35))
    dx, dy = length / 2 * np.cos(angle), length / 2 * np.sin(angle)
    x, y = SIZE / 2 + rng.uniform(-5, 5), SIZE / 2 + rng.uniform(-20, 20)
    draw.line((x - dx, y - dy, x + dx, y + dy), fill=255, width=int(rng.integers(3, 12)))


def letter(draw: ImageDraw.ImageDraw, rng: np.random.Generator, name: str | None = None) -> None:
    """A capital letter written in strokes (`name`, or one of LETTERS at random), each corner
    moved a little as a hand would."""
    strokes = LETTERS[name or str(rng.choice(list(LETTERS)))]
    width, height = rng.uniform(40, 75), rng.uniform(55, 85)
    left, top = rng.uniform(10, SIZE - width - 10), rng.uniform(10, SIZE - height - 10)
    pen = int(rng.integers(4, 12))
    for stroke in strokes:
        corners = np.array(stroke) * (width, height) + (left, top)
        corners += rng.normal(0, 2.5, corners.shape)
        draw.line([tuple(c) for c in corners], fill=255, width=pen, joint="curve")


def frame(draw: ImageDraw.ImageDraw, rng: np.random.Generator) -> None:
    """A rectangle's outline: a frame drawn round nothing, or the border of a scan."""
    margin = rng.uniform(0, 25, size=4)
    box = (margin[0], margin[1], SIZE - 1 - margin[2], SIZE - 1 - margin[3])
    draw.rectangle(box, outline=255, width=int(rng.integers(2, 10)))


def noise(rng: np.random.Generator) -> np.ndarray:
    """(SIZE, SIZE) in [0, 1]: uniform noise, salt and pepper, or noise blurred into clouds."""
    kind = rng.integers(3)
    if kind == 0:
        return rng.random((SIZE, SIZE))
    if kind == 1:
        return (rng.random((SIZE, SIZE)) < rng.uniform(0.02, 0.3)).astype(float)
    coarse = rng.random((SIZE // 8, SIZE // 8)).astype(np.float32)
    clouds = Image.fromarray(coarse).resize((SIZE, SIZE), Image.Resampling.BICUBIC)
    return np.clip(np.asarray(clouds, dtype=np.float64), 0, 1)


DRAWN: dict[str, Draw] = {
    "dot": dot,
    "blob": blob,
    "filled square": filled_square,
    "line": line,
    "letter": letter,
    "frame": frame,
}
KINDS = (*DRAWN, "noise")


def non_digit(kind: str, rng: np.random.Generator) -> np.ndarray:
    """One picture of `kind` (one of KINDS, or "letter X" for one letter of LETTERS):
    (SIZE, SIZE) uint8, light on dark or dark on light at random."""
    if kind == "noise":
        ink = noise(rng)
    else:
        canvas = Image.new("L", (SIZE, SIZE), 0)
        if kind.startswith("letter "):
            letter(ImageDraw.Draw(canvas), rng, kind.removeprefix("letter "))
        else:
            DRAWN[kind](ImageDraw.Draw(canvas), rng)
        ink = np.asarray(canvas, dtype=np.float64) / 255
    picture = ink if rng.random() < 0.5 else 1 - ink
    return np.round(255 * picture).astype(np.uint8)


def non_digits(kind: str, count: int, seed: int = 0) -> list[np.ndarray]:
    """`count` pictures of `kind`, the same ones for the same seed."""
    rng = np.random.default_rng(seed)
    return [non_digit(kind, rng) for _ in range(count)]

"""Train the digit-or-not network that `predict` asks whether a picture is a digit at all.

    python tools/train_digit_check.py [--out src/digitlab/models/digit_or_not.npz]

A network trained on MNIST answers every picture with a digit. The shape checks of
`digitlab.imaging.digit_check` refuse dots, blobs, lines, frames and noise; what they cannot
tell from a digit is a letter: an X is two crossing strokes, as an open 4 is. This script
trains a second, small network (784-256-2, digitlab's own MLP) on both kinds of picture, each
brought to MNIST's form by the same `preprocess` that `predict` uses:

- digits: the first 8,000 of the MNIST training images that ship with digitlab;
- not digits: 16,000 letters that look like no digit (no O, I, l, S, Z, B, G, ...), typeset in
  the font embedded in Pillow at random sizes, weights, slants and turns.

Each batch is bent by an elastic distortion (Simard et al., 2003), its strokes made thicker or
thinner, so that typeset letters look written by hand and the digits vary as handwriting does.
The other 2,000 training digits set the threshold: the score that refuses REFUSED_DIGITS of
them. The MNIST test digits and the letters
written in strokes by `digitlab.imaging.non_digits` are never seen here: the benchmark
`benchmarks/not_a_digit.py` measures on them.

Needs Pillow >= 10.1 with FreeType (for the embedded font); takes about 10 minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from digitlab import MLP, Trainer, save
from digitlab.datasets import load_dataset
from digitlab.datasets.augment import augment, warp
from digitlab.errors import NoDigitError
from digitlab.imaging.mnist_style import SIDE, preprocess
from digitlab.train import Adam

ROOT = Path(__file__).resolve().parents[1]
#: letters that look like no digit, in either case
LETTERS = "AEFHKMNPRUVWXYaefhkmnrtuvwxy"
CANVAS = 112  #: side of each typeset letter, as a digit written 4x MNIST's size
FIT_DIGITS, LETTER_COUNT = 8000, 16000
#: share of the held-out training digits the threshold refuses
REFUSED_DIGITS = 0.0015
#: elastic distortion: the displacement field's smoothness (pixels) and its largest size
ELASTIC_SIGMA, ELASTIC_ALPHA = 3.0, 4.0


def typeset_letter(rng: np.random.Generator) -> np.ndarray:
    """One letter of LETTERS, light on dark, (CANVAS, CANVAS) uint8."""
    font = ImageFont.load_default(size=float(rng.uniform(50, 90)))
    canvas = Image.new("L", (CANVAS, CANVAS), 0)
    ImageDraw.Draw(canvas).text(
        (CANVAS / 2, CANVAS / 2),
        str(rng.choice(list(LETTERS))),
        fill=255,
        font=font,
        anchor="mm",
        stroke_width=int(rng.integers(0, 5)),
        stroke_fill=255,
    )
    shear = rng.uniform(-0.3, 0.3)
    slanted = canvas.transform(
        canvas.size,
        Image.Transform.AFFINE,
        (1, shear, -shear * CANVAS / 2, 0, 1, 0),
        Image.Resampling.BILINEAR,
    )
    return np.asarray(slanted.rotate(rng.uniform(-15, 15), Image.Resampling.BILINEAR))


def mnist_form(pictures) -> np.ndarray:
    """Each picture through `preprocess`, as `predict` sees it: (N, 784) float32; a picture
    with no ink left is all zeros."""
    out = np.zeros((len(pictures), SIDE * SIDE), np.float32)
    for i, picture in enumerate(pictures):
        with contextlib.suppress(NoDigitError):  # no ink: stays all zeros
            out[i] = preprocess(picture).image.reshape(-1)
    return out


def thicker_or_thinner(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """images (N, 28, 28) with strokes made up to a pixel thicker or thinner at random: a
    blend with their 3x3 maximum (or minimum), so that the network does not learn the pen's
    width of the fonts or of MNIST's writers."""
    padded = np.pad(images, ((0, 0), (1, 1), (1, 1)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (3, 3), axis=(1, 2))
    amount = rng.uniform(-1, 1, (len(images), 1, 1))
    spread = np.where(amount > 0, windows.max(axis=(3, 4)), windows.min(axis=(3, 4)))
    return images + np.abs(amount) * (spread - images)


def handwritten(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """images (N, 784) as another hand might have written them: bent by a smooth random
    displacement field (a Gaussian-filtered uniform field, scaled to at most ELASTIC_ALPHA
    pixels), strokes thicker or thinner, turned and shifted a little."""
    n = len(images)
    frequencies = np.fft.fftfreq(SIDE)
    gaussian = np.exp(
        -2 * (np.pi * ELASTIC_SIGMA) ** 2 * (frequencies[:, None] ** 2 + frequencies[None] ** 2)
    )
    field = np.fft.ifft2(np.fft.fft2(rng.uniform(-1, 1, (2, n, SIDE, SIDE))) * gaussian).real
    largest = np.abs(field).max(axis=(2, 3), keepdims=True) + 1e-9
    field *= ELASTIC_ALPHA * rng.uniform(0, 1, (1, n, 1, 1)) / largest
    bent = warp(images.reshape(n, SIDE, SIDE), field[0], field[1])
    varied = thicker_or_thinner(bent, rng)
    return augment(varied, rng, max_shift=1.5, max_degrees=10).reshape(images.shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "src/digitlab/models/digit_or_not.npz"))
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    digits = mnist_form(load_dataset("mnist-10k").x_train)
    letters = mnist_form([typeset_letter(rng) for _ in range(LETTER_COUNT)])
    x = np.concatenate([digits[:FIT_DIGITS], letters])
    t = np.concatenate([np.zeros(FIT_DIGITS, int), np.ones(LETTER_COUNT, int)])

    network = MLP(SIDE * SIDE, [256], 2, seed=0, dtype=np.float32)
    trainer = Trainer(network, Adam(1e-3), epochs=args.epochs, augment=handwritten, progress=True)
    trainer.fit(x, t)
    held_out = network.predict(digits[FIT_DIGITS:])[:, 1]
    threshold = float(np.quantile(held_out, 1 - REFUSED_DIGITS))
    save(
        network,
        args.out,
        classes=["digit", "not a digit"],
        threshold=threshold,
        dataset="mnist-10k digits and typeset letters",
    )
    print(f"wrote {args.out}: refuse above {threshold:.4f}")


if __name__ == "__main__":
    main()

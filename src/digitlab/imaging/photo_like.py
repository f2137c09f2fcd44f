"""Real MNIST digits shown the ways a photo or a scan of a digit differs from MNIST.

Each function takes a uint8 digit (28, 28), light ink on black as MNIST stores it, and a numpy
Generator, and returns a PIL picture as a camera or a scanner would give it: inverted (dark ink
on paper), small and off-centre on a large canvas, scaled up, with thicker strokes, under uneven
light, on coloured paper, with JPEG artefacts, or `phone_photo`: all of them at once, with
paper grain. They measure how well a model reads pictures that are not MNIST's
(`tests/test_predict.py`, `benchmarks/default_model.py`).
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageFilter


def enlarged(digit, factor=4):
    image = Image.fromarray(digit)
    return image.resize((28 * factor, 28 * factor), Image.Resampling.BICUBIC)


def on_paper(ink_amount, paper, ink):
    """RGB uint8 picture: ink (a colour) laid on paper (a colour or a (H, W, 3) texture) in
    proportion ink_amount (H, W) in [0, 1]."""
    amount = ink_amount[..., None]
    return np.round(255 * np.clip(paper * (1 - amount) + ink * amount, 0, 1)).astype(np.uint8)


def light_falloff(height, width, rng, darkest):
    """Light from one side: 1 on the bright edge down to `darkest`, in a random direction."""
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    angle = rng.uniform(0, 2 * np.pi)
    along = np.clip(0.5 + np.cos(angle) * (x - 0.5) + np.sin(angle) * (y - 0.5), 0, 1)
    return darkest + (1 - darkest) * along


def jpeg(image, quality):
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    buffer.seek(0)
    return Image.open(buffer)


def inverted(digit, rng):
    return Image.fromarray(255 - digit)


def off_centre_on_large_canvas(digit, rng):
    canvas = Image.new("L", (240, 320), 0)
    small = enlarged(digit, 3)
    where = (int(rng.integers(0, 240 - 84)), int(rng.integers(0, 320 - 84)))
    canvas.paste(small, where)
    return canvas


def scaled_up(digit, rng):
    return enlarged(digit, 4)


def thicker_strokes(digit, rng):
    return enlarged(digit, 4).filter(ImageFilter.MaxFilter(7))  # dilation by 3 of 112 px


def uneven_light(digit, rng):
    ink = np.asarray(enlarged(digit), dtype=float) / 255
    paper = np.full((112, 112, 3), 0.92)
    picture = on_paper(ink, paper, np.array([0.08, 0.08, 0.08])) / 255
    lit = picture * light_falloff(112, 112, rng, darkest=0.35)[..., None]
    return Image.fromarray(np.round(255 * lit).astype(np.uint8)).convert("L")


def coloured_paper_and_ink(digit, rng):
    ink = np.asarray(enlarged(digit), dtype=float) / 255
    return Image.fromarray(on_paper(ink, np.array([0.95, 0.85, 0.55]), np.array([0.15, 0.2, 0.6])))


def jpeg_artefacts(digit, rng):
    return jpeg(enlarged(255 - digit), quality=50)


def phone_photo(digit, rng):
    """All at once: enlarged, bolder, blue-black ink on cream paper with grain, off-centre on
    a larger sheet, light falling off to 45%, saved as a JPEG."""
    ink = np.asarray(enlarged(digit).filter(ImageFilter.MaxFilter(3)), dtype=float) / 255
    height, width = 300, 240
    sheet = np.zeros((height, width))
    top, left = int(rng.integers(0, height - 112)), int(rng.integers(0, width - 112))
    sheet[top : top + 112, left : left + 112] = ink
    paper = np.array([0.9, 0.88, 0.75]) + rng.normal(0, 0.03, (height, width, 1))
    picture = on_paper(sheet, paper, np.array([0.1, 0.12, 0.35])) / 255
    lit = picture * light_falloff(height, width, rng, darkest=0.45)[..., None]
    return jpeg(Image.fromarray(np.round(255 * lit).astype(np.uint8)), quality=70)


#: each way on its own, in the order of the README's table
TRANSFORMS = [
    inverted,
    off_centre_on_large_canvas,
    scaled_up,
    thicker_strokes,
    uneven_light,
    coloured_paper_and_ink,
    jpeg_artefacts,
]

"""Data augmentation: small random rotations and shifts of digit images, a whole batch at once.

A handwritten 7 is still a 7 a little tilted or off-centre; showing the network such variants
of its training images makes it rely less on exact pixel positions. Each output pixel reads the
input at the inverse-mapped position with bilinear interpolation, and whatever comes from outside
the image is 0 (background). The whole batch is one set of array operations, with no Python loop
over images: build every image's inverse map, then gather the four neighbours of every sample
point from the flattened batch at once.

    augment(x_batch, rng)                               # (N, 784) or (N, 28, 28) back
    Trainer(net, augment=Augment(max_shift=2, max_degrees=10))   # each batch afresh
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike

from digitlab._validate import number
from digitlab.errors import ConfigError


def rotate_and_shift(images: np.ndarray, degrees: ArrayLike, shifts: ArrayLike) -> np.ndarray:
    """Rotate image i by degrees[i] about its centre, then shift it by shifts[i] pixels.

    images: (N, H, W), or (N, H*W) of square images (such as (N, 784)); any float or integer
    dtype. degrees: (N,) or one number, counter-clockwise as displayed (row 0 at the top).
    shifts: (N, 2) or (2,), (right, down) in pixels, fractions allowed.

    Returns an array of the same shape and dtype: bilinear interpolation, zeros where the
    source lies outside the image (integer images are rounded back to their dtype).
    """
    square = _as_square(images)
    n, h, w = square.shape
    dtype = images.dtype if images.dtype.kind == "f" else np.dtype(np.float32)
    radians = np.deg2rad(np.broadcast_to(np.asarray(degrees, dtype=np.float64), (n,)))
    cos = np.cos(radians).astype(dtype)[:, None, None]
    sin = np.sin(radians).astype(dtype)[:, None, None]
    shifts = np.broadcast_to(np.asarray(shifts, dtype=dtype), (n, 2))
    cy, cx = (h - 1) / 2, (w - 1) / 2
    # Output pixel (row, col), relative to the centre and with the shift undone: u right, v down.
    u = np.arange(w, dtype=dtype)[None, None, :] - (cx + shifts[:, 0, None, None])
    v = np.arange(h, dtype=dtype)[None, :, None] - (cy + shifts[:, 1, None, None])
    # Undo the rotation: a counter-clockwise turn, as seen with y pointing down, maps (x, y) to
    # (x·cos + y·sin, -x·sin + y·cos); this is its inverse. Clipping to one pixel outside the
    # image keeps the reads inside the zero border made below without changing any value.
    x_in = np.clip(cos * u - sin * v + cx, -1, w)
    y_in = np.clip(sin * u + cos * v + cy, -1, h)
    out = _bilinear(square, x_in, y_in)
    if images.dtype.kind != "f":
        np.rint(out, out=out)
    return out.astype(images.dtype, copy=False).reshape(images.shape)


def warp(images: np.ndarray, dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Each output pixel (row, col) of image i read at (col + dx[i, row, col], row +
    dy[i, row, col]) with bilinear interpolation, 0 from outside the image: the images bent by
    a displacement field (an elastic distortion when the field is smooth).

    images, dx, dy: (N, H, W) float; returns (N, H, W) in the images' dtype.
    """
    h, w = images.shape[1:]
    rows, cols = np.mgrid[0:h, 0:w].astype(images.dtype)
    x_in = np.clip(cols + dx, -1, w).astype(images.dtype)
    y_in = np.clip(rows + dy, -1, h).astype(images.dtype)
    return _bilinear(images, x_in, y_in)


def augment(
    images: np.ndarray,
    rng: np.random.Generator,
    max_shift: float = 2.0,
    max_degrees: float = 10.0,
    mirror: bool = False,
) -> np.ndarray:
    """Each image rotated by a random angle in [-max_degrees, max_degrees] and shifted by a
    random (right, down) offset, each in [-max_shift, max_shift] pixels (uniform, fractions
    allowed); with `mirror`, each also flipped left to right with probability 1/2.
    images: (N, H, W), (N, 1, H, W) or (N, H*W); the same shape and dtype back."""
    n = images.shape[0]
    if mirror:
        square = _as_square(images)
        flip = (rng.random(n) < 0.5)[:, None, None]
        images = np.where(flip, square[:, :, ::-1], square).reshape(images.shape)
    if max_shift == 0 and max_degrees == 0:
        return images
    degrees = rng.uniform(-max_degrees, max_degrees, n)
    shifts = rng.uniform(-max_shift, max_shift, (n, 2))
    return rotate_and_shift(images, degrees, shifts)


class Augment:
    """Random rotations, shifts and (optionally) mirror images as a Trainer option:
    `Trainer(..., augment=Augment())`.

    The Trainer calls it on each training batch with its own seeded generator, so a run stays
    reproducible; the data set itself is never changed, and every epoch sees fresh variants.

    Args:
        max_shift: largest shift along each axis, in pixels (MNIST digits have a 4-pixel margin).
        max_degrees: largest rotation, either way.
        mirror: flip half of the images left to right. Right for clothes (a shirt seen in a
            mirror is still a shirt), wrong for digits (a mirrored 2 is no digit at all).
    """

    def __init__(
        self, max_shift: float = 2.0, max_degrees: float = 10.0, mirror: bool = False
    ) -> None:
        self.max_shift = number("max_shift", max_shift, low=0, high=14, example="2 (pixels)")
        self.max_degrees = number("max_degrees", max_degrees, low=0, high=180, example="10")
        if not isinstance(mirror, bool):
            raise ConfigError(f"mirror must be True or False, not {mirror!r}.")
        self.mirror = mirror

    def __call__(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        return augment(images, rng, self.max_shift, self.max_degrees, self.mirror)

    def __repr__(self) -> str:
        mirror = ", mirror=True" if self.mirror else ""
        return f"Augment(max_shift={self.max_shift:g}, max_degrees={self.max_degrees:g}{mirror})"


def _as_square(images: np.ndarray) -> np.ndarray:
    """images as (N, H, W): unchanged if 3-d, one channel (N, 1, H, W) and (N, D) with D a square
    number (as (N, √D, √D)) reshaped."""
    if images.ndim == 3:
        return images
    if images.ndim == 4 and images.shape[1] == 1:
        return images.reshape(images.shape[0], *images.shape[2:])
    if images.ndim == 2 and math.isqrt(images.shape[1]) ** 2 == images.shape[1]:
        side = math.isqrt(images.shape[1])
        return images.reshape(images.shape[0], side, side)
    raise ConfigError(
        f"cannot rotate or shift images of shape {images.shape}: expected (N, H, W), "
        "(N, 1, H, W) or (N, H*W) square images such as (N, 784); reshape them first."
    )


def _bilinear(images: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Bilinear samples of images (N, H, W) at (x, y) (N, H, W), each within [-1, W] × [-1, H].

    The images get a zero border (1 pixel before, 2 after), so all four neighbours of every
    sample point are inside the padded array: one flat gather per neighbour, no masks.
    """
    n, h, w = images.shape
    padded = np.zeros((n, h + 3, w + 3), dtype=x.dtype)
    padded[:, 1 : h + 1, 1 : w + 1] = images
    flat = padded.reshape(-1)
    x0 = np.floor(x)
    y0 = np.floor(y)
    fx = x - x0
    fy = y - y0
    row = w + 3
    index = (y0.astype(np.intp) + 1) * row + (x0.astype(np.intp) + 1)
    index += (np.arange(n) * ((h + 3) * row))[:, None, None]
    top_left = flat[index]
    top = top_left + fx * (flat[index + 1] - top_left)
    index += row
    bottom_left = flat[index]
    bottom = bottom_left + fx * (flat[index + 1] - bottom_left)
    return top + fy * (bottom - top)

"""Is it a digit at all? Simple, explainable checks of the (28, 28) image a network would see.

A network trained on MNIST gives a confident answer for anything: a dot becomes a filled blob
after preprocessing and may be read as an 8 at 100%. Its softmax cannot say "none of these",
because it only ever learned to choose between ten digits. So before its answer is shown, the
image is checked against what MNIST's digits look like, by measures a learner can follow:

- filled: the share of the ink lying deep inside a solid area (a dot, a blob, a filled square),
  where digits are strokes 2 to 4 pixels wide;
- pieces: the ink falls apart into many pieces (noise), where a digit is one or two strokes;
- line: a straight stroke far from vertical (a vertical stroke is a 1);
- frame: most of the ink's box is an enclosed hole (a rectangle drawn round nothing);
- unlike any digit: the distance to the nearest of the 10,000 MNIST training digits that ship
  with digitlab is larger than for almost any real digit.

Each threshold was set on those 10,000 training digits so that each check refuses at most a
few in a thousand of them; `benchmarks/not_a_digit.py` measures the refusals on the 10,000
MNIST test digits (false refusals, below 1% together) and on each kind of non-digit picture
(`digitlab.imaging.non_digits`).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from digitlab.datasets import load_dataset
from digitlab.i18n import N_
from digitlab.imaging.mnist_style import SIDE, dilate, pieces

#: a pixel with more than this much ink is ink, for the measures of shape
INK_LEVEL = 0.5
#: the ink within 2 pixels of the edge of a stroke: what is deeper is solid area. At most this
#: share of ink may lie deeper (99.9% of MNIST's training digits: at most 0.169)
MAX_SOLID_SHARE = 0.17
#: at most this many 8-connected pieces of ink (all of MNIST's training digits: at most 4;
#: 99.8% at most 3)
MAX_PIECES = 3
#: a line: the spread of the ink across its main axis under this fraction of the spread
#: along it, with the main axis more than MIN_LINE_ANGLE degrees from vertical (0.05% of
#: MNIST's training digits)
MAX_LINE_WIDTH_RATIO = 0.3
MIN_LINE_ANGLE = 50.0
#: an enclosed hole larger than this share of the ink's box is a frame (the largest hole of a
#: training digit, a round 0: 0.58 of its box; 99.9% below 0.48)
MAX_HOLE_SHARE = 0.6
#: distance (root sum of squared pixel differences, pixels in [0, 1]) to the nearest MNIST
#: training digit above which a picture is like no digit (99.7% of training digits are nearer
#: to another training digit)
MAX_NEAREST_DISTANCE = 7.9


def not_a_digit(image: np.ndarray) -> str | None:
    """Why the preprocessed `image` (28, 28) float in [0, 1] is not a digit, or None when it
    looks like one: a short phrase for a one-line answer, in English (translate it with
    digitlab.i18n: `_(reason)`, or `translate(reason, lang)` for a page's language)."""
    ink = image > INK_LEVEL
    if not ink.any():
        return N_("too little ink")
    if solid_share(ink) > MAX_SOLID_SHARE:
        return N_("a filled shape (a dot, a blob, a square), not strokes")
    if count_pieces(ink) > MAX_PIECES:
        return N_("scattered pieces of ink (noise?), not strokes")
    if is_straight_line(image):
        return N_("a straight line, not a digit")
    if hole_share(ink) > MAX_HOLE_SHARE:
        return N_("an empty frame, not a digit")
    if nearest_digit_distance(image) > MAX_NEAREST_DISTANCE:
        return N_("unlike any digit that the network learned from")
    return None


def solid_share(ink: np.ndarray) -> float:
    """Share of the ink (h, w) bool more than 2 pixels from its edge: ~0 for strokes, most of
    it for a filled shape."""
    deep = ~dilate(~ink, 2)
    return float(deep.sum() / ink.sum())


def count_pieces(ink: np.ndarray) -> int:
    """Number of 8-connected pieces of ink (h, w) bool."""
    labels = pieces(ink)[1]
    return int(labels.max()) + 1 if labels.size else 0


def is_straight_line(image: np.ndarray) -> bool:
    """Whether the ink of `image` (h, w) lies along one straight axis far from vertical.

    The ink's second moments (a 2x2 covariance of row and column, weighted by ink) give its
    main axis (the eigenvector of the larger eigenvalue) and the spread across it.
    """
    rows, cols = np.mgrid[0 : image.shape[0], 0 : image.shape[1]]
    weights = image / image.sum()
    centred = np.stack([rows - (weights * rows).sum(), cols - (weights * cols).sum()])
    covariance = np.einsum("ahw,bhw,hw->ab", centred, centred, weights)
    spreads, axes = np.linalg.eigh(covariance)  # ascending
    width_ratio = np.sqrt(max(spreads[0], 0.0) / max(spreads[1], 1e-12))
    degrees_from_vertical = np.degrees(np.arccos(min(abs(axes[0, 1]), 1.0)))
    return bool(width_ratio < MAX_LINE_WIDTH_RATIO and degrees_from_vertical > MIN_LINE_ANGLE)


def hole_share(ink: np.ndarray) -> float:
    """The largest enclosed hole (background not connected to the image's edge) as a share of
    the ink's bounding box; 0 when there is none. ink: (h, w) bool."""
    runs, labels = pieces(~ink)
    if labels.size == 0:
        return 0.0
    count = int(labels.max()) + 1
    on_edge = (runs.row == 0) | (runs.row == ink.shape[0] - 1) | (runs.start == 0)
    on_edge |= runs.end == ink.shape[1]
    touches_edge = np.zeros(count, bool)
    np.logical_or.at(touches_edge, labels, on_edge)
    size = np.bincount(labels, weights=runs.end - runs.start, minlength=count)
    if touches_edge.all():
        return 0.0
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    box = (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1)
    return float(size[~touches_edge].max() / box)


def nearest_digit_distance(image: np.ndarray) -> float:
    """Euclidean distance from `image` (28, 28) to the nearest of MNIST's training digits."""
    references, squared_norms = _training_digits()
    x = image.reshape(SIDE * SIDE).astype(np.float32)
    # |x - r|² = |x|² + |r|² - 2 x·r for all 10,000 r at once; rounding can make it slightly
    # negative for a near-copy, hence the floor at 0.
    squared = float(x @ x) + squared_norms - 2 * (references @ x)
    return float(np.sqrt(max(float(squared.min()), 0.0)))


@lru_cache(maxsize=1)
def _training_digits() -> tuple[np.ndarray, np.ndarray]:
    """MNIST's training digits that ship with digitlab as (10000, 784) float32 in [0, 1], and
    their squared norms (10000,); read once per process (about 30 MB)."""
    images = load_dataset("mnist-10k").x_train
    references = images.reshape(len(images), SIDE * SIDE).astype(np.float32) / 255
    return references, np.einsum("ij,ij->i", references, references)

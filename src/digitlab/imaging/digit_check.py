"""Is it a digit at all? Simple, explainable checks of the (28, 28) image a network would see.

A network trained on MNIST gives a confident answer for anything: a dot becomes a filled blob
after preprocessing and may be read as an 8 at 100%. Its softmax cannot say "none of these",
because it only ever learned to choose between ten digits. So before its answer is shown, the
image is checked against what MNIST's digits look like, by measures a learner can follow:

- filled: the share of the ink lying deep inside a solid area (a dot, a blob, a filled square),
  where digits are strokes 2 to 4 pixels wide;
- pieces: the ink falls apart into many pieces (noise), where a digit is one or two strokes;
- line: a straight stroke far from vertical (a vertical stroke is a 1);
- frame: most of the ink's box is an enclosed hole, or a large hole is a rectangle (a frame
  drawn round nothing, the border of a scan);
- a letter: a second, small network (`models/digit_or_not.npz`, 784-256-2) trained to tell
  MNIST's digits from typeset letters bent as handwriting bends (`tools/train_digit_check.py`)
  says it is no digit. Shape alone cannot say it: an X is two crossing strokes, as an open 4 is.

Each threshold was set on MNIST training digits so that each check refuses at most a few in a
thousand of them; `benchmarks/not_a_digit.py` measures the refusals on the 10,000 MNIST test
digits (false refusals, below 1% together) and on each kind of non-digit picture
(`digitlab.imaging.non_digits`), none of which the thresholds or the second network saw.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from digitlab import modelfile
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
#: a hole over MIN_FRAME_HOLE_SHARE of the ink's box that fills more than
#: MIN_RECTANGULAR of its own box is a rectangle: a frame (the holes of MNIST's training
#: digits that large fill at most 0.88 of their own box: a 0 is round, 0.74 on average)
MIN_FRAME_HOLE_SHARE = 0.3
MIN_RECTANGULAR = 0.92


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
    share, rectangular = largest_hole(ink)
    if share > MAX_HOLE_SHARE or (share > MIN_FRAME_HOLE_SHARE and rectangular > MIN_RECTANGULAR):
        return N_("an empty frame, not a digit")
    if letter_score(image) > _digit_or_not().metadata["threshold"]:
        return N_("more like a letter than any digit the network learned from")
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


def largest_hole(ink: np.ndarray) -> tuple[float, float]:
    """The largest enclosed hole (background not connected to the image's edge) of ink (h, w)
    bool: its area as a share of the ink's bounding box, and as a share of its own bounding
    box (1 for a rectangle, about 0.79 for an ellipse); (0, 0) when there is none."""
    runs, labels = pieces(~ink)
    if labels.size == 0:
        return 0.0, 0.0
    count = int(labels.max()) + 1
    on_edge = (runs.row == 0) | (runs.row == ink.shape[0] - 1) | (runs.start == 0)
    on_edge |= runs.end == ink.shape[1]
    touches_edge = np.zeros(count, bool)
    np.logical_or.at(touches_edge, labels, on_edge)
    if touches_edge.all():
        return 0.0, 0.0
    size = np.bincount(labels, weights=runs.end - runs.start, minlength=count)
    hole = int(np.argmax(np.where(touches_edge, -1, size)))
    mine = labels == hole
    hole_box = (np.ptp(runs.row[mine]) + 1) * (runs.end[mine].max() - runs.start[mine].min())
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    box = (rows[-1] - rows[0] + 1) * (cols[-1] - cols[0] + 1)
    return float(size[hole] / box), float(size[hole] / hole_box)


def letter_score(image: np.ndarray) -> float:
    """How sure the digit-or-not network is that `image` (28, 28) in [0, 1] holds no digit
    (a letter): its probability of "not a digit", in [0, 1]."""
    network = _digit_or_not()
    x = image.reshape(1, SIDE * SIDE).astype(network.dtype)
    return float(network.predict(x)[0, 1])


@lru_cache(maxsize=1)
def _digit_or_not():
    """The digit-or-not network that ships with digitlab, loaded once per process; its
    metadata's `threshold` is the score above which a picture is refused."""
    return modelfile.load(modelfile.shipped_model_path("digit_or_not"))

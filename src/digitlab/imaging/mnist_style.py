"""MNIST's preprocessing for any picture of a digit: the (28, 28) input a network expects.

MNIST's digits were made like this (LeCun et al.): the ink of a scanned digit was cropped to its
bounding box, scaled to fit a 20x20 box keeping the aspect ratio (anti-aliased, so edges are
grey), and placed in a 28x28 field so that the centre of mass of the ink lies at its centre;
ink is light (1) on a dark (0) background. A network trained on MNIST reads a new digit well
only if it is brought into this same form, so `preprocess` repeats the recipe — after first
separating the ink from the background, which a scan or a phone photo does not do for us:

1. background: a smooth surface (a quadratic in x and y) fitted to the picture by robust least
   squares, which ignores the ink as outliers, plus a local correction for the light it
   cannot follow; it follows uneven light and the paper's colour;
2. polarity: whether the ink is darker or lighter than that background (the side whose
   extremes lie furthest from it), so light on dark and dark on light both work;
3. ink strength: how far each pixel has gone from the background towards black (dark ink) or
   white (light ink), as a fraction of the way, root mean square over the colour channels:
   0 paper, 1 full ink. Dividing by the local background cancels uneven light, and using
   every channel finds coloured ink on coloured paper;
4. threshold: Otsu's, never below the noise of the paper (grain, JPEG artefacts);
5. clean-up: connected pieces of ink that touch the picture's edge (shadows, the desk, the
   page's edge; unless every piece does), lie far from the largest piece, or are mere specks
   are dropped; the ink keeps its strength (grey edges), it is not made binary;
6. MNIST's steps: crop to the ink's bounding box, scale to fit 20x20, centre of mass to (14, 14).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageFilter

from digitlab.errors import NoDigitError
from digitlab.i18n import _
from digitlab.imaging.load import open_image, to_float

SIDE = 28  #: MNIST's field
BOX = 20  #: the box a digit's larger side is scaled to
CENTRE = 14.0  #: where MNIST's centres of mass lie (pixel index; mean 14.0 +- 0.3 on its test set)
#: ink must differ from the background by at least this fraction of the way to black or white
MIN_CONTRAST = 0.1
#: fewer pixels of ink than this (after dropping specks) is no digit
MIN_INK_PIXELS = 12
#: pieces of ink smaller than this fraction of the largest piece are specks, not strokes
SPECK_FRACTION = 0.05
#: side of the reduced picture the background is fitted on
BACKGROUND_SIDE = 64
#: side of the smaller copy on which light the quadratic misses is followed
LOCAL_SIDE = 32


@dataclass
class Preprocessed:
    """The input a network sees, and every step on the way, for `digitlab predict --show`.

    image: (28, 28) float64 in [0, 1], light digit (1) on dark (0), MNIST's layout.
    original: (H, W, C) float32 in [0, 1], the picture as read (at most 640 px a side).
    background: (H, W, C) the fitted background; ink: (H, W) ink strength in [0, 1] of the
    pieces kept; box: (top, left, bottom, right) of the ink in `original`, bottom/right
    exclusive; fitted: the crop scaled to fit 20x20; dark_ink: the polarity found;
    threshold: the ink-strength threshold used.
    """

    image: np.ndarray
    original: np.ndarray
    background: np.ndarray
    ink: np.ndarray
    box: tuple[int, int, int, int]
    fitted: np.ndarray
    dark_ink: bool
    threshold: float


def preprocess(source, *, name: str | None = None, drawn: bool = False) -> Preprocessed:
    """MNIST's preprocessing of a picture of one digit; `.image` is the (28, 28) input.

    source: a path to a PNG/JPEG/BMP/... file, a PIL image, or an array (H, W[, 3|4]) of uint8
    or float in [0, 1]; any size, dark on light or light on dark, scanned or photographed.
    name: how messages name the picture (default: the path).
    drawn: the picture is a drawing pad's (the digit and nothing else): strokes that run to its
        edge are part of the digit, where in a photo or scan such pieces are the desk, a
        shadow or the page's edge and are dropped.
    Raises ImageError when the picture cannot be read, NoDigitError (an ImageError) when it
    holds no ink to read.
    """
    picture = open_image(source, name)
    if name is None:
        name = str(source) if isinstance(source, (str, os.PathLike)) else _("the image")
    original = to_float(picture)
    if float(np.ptp(original)) < MIN_CONTRAST:  # one colour: no background fit can find ink
        raise _no_digit(name, _("nothing stands out from the background (a blank picture)"))
    background, dark_ink = fit_background(original)
    strength, opposite = ink_strength(original, background, dark_ink)
    threshold = _threshold(strength, opposite)
    mask = strength > threshold
    if not mask.any():
        raise _no_digit(name, _("nothing stands out from the background (a blank picture)"))
    kept = keep_digit(mask, keep_edges=drawn)
    if kept.sum() < MIN_INK_PIXELS:
        raise _no_digit(name, _("only specks stand out from the background, no strokes"))
    ink = _ink_levels(strength, mask, kept)
    box = _bounding_box(ink)
    fitted = fit_box(ink[box[0] : box[2], box[1] : box[3]])
    image = centre_by_mass(fitted)
    return Preprocessed(
        image=image,
        original=original,
        background=background,
        ink=ink,
        box=box,
        fitted=fitted,
        dark_ink=dark_ink,
        threshold=float(threshold),
    )


def _no_digit(name: str, reason: str) -> NoDigitError:
    return NoDigitError(
        _("no digit found in {name}: {reason}").format(name=name, reason=reason), reason
    )


# -- 1. background ------------------------------------------------------------------------------


def fit_background(picture: np.ndarray, iterations: int = 8) -> tuple[np.ndarray, bool]:
    """The background under the ink, and whether the ink is darker than it.

    First a smooth surface: per channel, a quadratic in x and y fitted by least squares to a
    reduced copy of the picture, each round leaving out the pixels far from it (the ink). The
    ink is then the side (darker or lighter) whose extremes lie furthest from that surface.
    Last, light that a quadratic cannot follow (a shadow's edge, a lamp's spot) is added as
    a local percentile of what is left, taken from the paper's side (the 85th percentile for
    dark ink): it ignores ink covering up to 85% of a neighbourhood.

    picture: (H, W, C) float in [0, 1] -> ((H, W, C) float32 background, dark_ink).
    """
    height, width, channels = picture.shape
    small = _reduced(picture, BACKGROUND_SIDE).astype(np.float64)
    basis = _quadratic_basis(*small.shape[:2])
    values = small.reshape(-1, channels)
    # Start from the median colour: robust to ink covering up to half the picture.
    fit = np.broadcast_to(np.median(values, axis=0), values.shape)
    coef = np.zeros((basis.shape[1], channels))
    coef[0] = np.median(values, axis=0)
    for _round in range(iterations):
        distance = np.sqrt(((values - fit) ** 2).sum(axis=1))
        spread = 1.4826 * np.median(distance) + 1e-3  # MAD, as a standard deviation
        inliers = distance <= 2.5 * spread
        if inliers.sum() < basis.shape[1] * 2:
            break
        # Normal equations of the 6 coefficients: a 6x6 least-squares solve is far cheaper
        # than lstsq's SVD of the whole basis. Least squares, not `solve`: a picture one or two
        # pixels high (100x1, or a long strip reduced) has y and y² equal up to scale, so the
        # system is singular; lstsq then takes the smallest coefficients that fit.
        kept = basis[inliers]
        coef = np.linalg.lstsq(kept.T @ kept, kept.T @ values[inliers], rcond=None)[0]
        fit = basis @ coef
    residual = (values - fit).reshape(small.shape)
    dark_ink = _ink_is_dark(residual.mean(axis=2))
    # Light is (nearly) colourless: follow it on the channels' mean, one plane instead of three.
    shading = _local_percentile(_reduced(residual, LOCAL_SIDE).mean(axis=2), 85 if dark_ink else 15)
    local = np.asarray(
        Image.fromarray(shading.astype(np.float32)).resize(
            (width, height), Image.Resampling.BILINEAR
        )
    )[:, :, None]
    smooth = _quadratic_surface(coef, height, width)
    return np.clip(smooth + local, 0, 1).astype(np.float32), dark_ink


def _local_percentile(values: np.ndarray, q: float) -> np.ndarray:
    """The q-th percentile over a neighbourhood a quarter of the picture wide, then averaged
    over the same neighbourhood so that it varies smoothly. values: (h, w) -> (h, w)."""
    window = max(3, (min(values.shape) // 4) | 1)
    rank = round(q / 100 * (window * window - 1))
    plane = Image.fromarray(values.astype(np.float32))
    level = np.asarray(plane.filter(ImageFilter.RankFilter(window, rank)), np.float64)
    return _box_mean(_box_mean(level, window, 0), window, 1)


def _box_mean(values: np.ndarray, window: int, axis: int) -> np.ndarray:
    """Mean over `window` neighbours along `axis`, edges extended."""
    pad = [(0, 0)] * values.ndim
    pad[axis] = (window // 2 + 1, window // 2)
    total = np.cumsum(np.pad(values, pad, mode="edge"), axis=axis)
    n = values.shape[axis]
    upper = np.take(total, np.arange(window, window + n), axis=axis)
    lower = np.take(total, np.arange(0, n), axis=axis)
    return (upper - lower) / window


def _reduced(picture: np.ndarray, side: int) -> np.ndarray:
    height, width, channels = picture.shape
    scale = side / max(height, width)
    if scale >= 1:
        return picture
    size = (max(2, round(width * scale)), max(2, round(height * scale)))
    planes = [
        np.asarray(Image.fromarray(picture[:, :, c]).resize(size, Image.Resampling.BOX))
        for c in range(channels)
    ]
    return np.stack(planes, axis=2)


def _centres(n: int) -> np.ndarray:
    """(n,): the pixel centres of a side n pixels long, as coordinates in [-1, 1]."""
    return (np.arange(n, dtype=np.float64) + 0.5) / n * 2 - 1


def _quadratic_basis(height: int, width: int) -> np.ndarray:
    """(H*W, 6): 1, x, y, x², xy, y² at each pixel's centre, row by row."""
    y, x = np.meshgrid(_centres(height), _centres(width), indexing="ij")
    x, y = x.ravel(), y.ravel()
    return np.stack([np.ones_like(x), x, y, x * x, x * y, y * y], axis=1)


def _quadratic_surface(coef: np.ndarray, height: int, width: int) -> np.ndarray:
    """_quadratic_basis(height, width) @ coef as (H, W, C), for coef (6, C): evaluated by
    rows and columns, since the basis of a full-size photo (a million pixels by 6) costs
    tens of milliseconds to build and multiply."""
    y, x = _centres(height)[:, None], _centres(width)[:, None]
    rows = coef[0] + y * coef[2] + y * y * coef[5]  # (H, C)
    columns = x * coef[1] + x * x * coef[3]  # (W, C)
    return rows[:, None] + columns[None] + (y * x.T)[:, :, None] * coef[4]


# -- 2. and 3. polarity and ink strength ---------------------------------------------------------


def _ink_is_dark(residual: np.ndarray) -> bool:
    """True when the picture's most extreme departures from its background (residual, (h, w))
    are darker than it: the ink lies further out than any misfit of the light."""
    darker = -np.percentile(residual, 0.5)
    lighter = np.percentile(residual, 99.5)
    return bool(darker >= lighter)


def ink_strength(
    picture: np.ndarray, background: np.ndarray, dark_ink: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Ink strength (H, W) in [0, 1]: per pixel, how far from the background towards black
    (dark ink) or white (light ink) it has gone, as a fraction of the way there, root mean
    square over the colour channels. Dividing by the way there (the background's brightness, or
    its distance from white) makes ink under dim light as strong as ink under bright light.

    Also returns the same measure in the other direction (H, W), where only noise lies.
    """
    # The way there counts as at least a quarter: on white paper, "lighter ink" would otherwise
    # be the paper's grain divided by almost nothing (and so would dark ink on a black board).
    if dark_ink:
        toward_ink = (background - picture) / np.maximum(background, 0.25)
    else:
        toward_ink = (picture - background) / np.maximum(1 - background, 0.25)
    strength = np.sqrt((np.clip(toward_ink, 0, 1) ** 2).mean(axis=2))
    opposite = np.sqrt((np.clip(-toward_ink, 0, 1) ** 2).mean(axis=2))
    return strength, opposite


def _threshold(strength: np.ndarray, opposite: np.ndarray) -> float:
    """Otsu's threshold of the ink strengths, raised above the paper's noise and MIN_CONTRAST.

    The noise is measured on the other side of the background (pixels lighter than the paper,
    for dark ink), where there is no ink: paper texture, grain and JPEG artefacts stray as far
    one way as the other.
    """
    noise = min(2 * float(np.percentile(opposite, 99.5)), 0.5)
    return max(otsu(strength), noise, MIN_CONTRAST)


def otsu(values: np.ndarray, bins: int = 256) -> float:
    """Otsu's threshold of values in [0, 1]: the cut that maximizes the between-class variance
    of the two groups it makes (background and ink)."""
    counts, edges = np.histogram(values, bins=bins, range=(0.0, 1.0))
    centres = (edges[:-1] + edges[1:]) / 2
    weight_low = np.cumsum(counts)
    weight_high = weight_low[-1] - weight_low
    mass_low = np.cumsum(counts * centres)
    mean_low = mass_low / np.maximum(weight_low, 1)
    mean_high = (mass_low[-1] - mass_low) / np.maximum(weight_high, 1)
    between = weight_low * weight_high * (mean_low - mean_high) ** 2
    return float(edges[int(np.argmax(between)) + 1])


# -- 5. which ink is the digit -------------------------------------------------------------------


def keep_digit(mask: np.ndarray, keep_edges: bool = False) -> np.ndarray:
    """The pieces of `mask` (8-connected) that make the digit: those not touching the picture's
    edge (unless every piece does: a tightly cropped digit; or `keep_edges`, for a drawing),
    not specks (below SPECK_FRACTION of the largest piece), and near the largest piece (within
    half its size)."""
    runs, labels = pieces(mask)
    if len(runs.row) == 0:
        return mask
    count = labels.max() + 1
    length = runs.end - runs.start
    size = np.bincount(labels, weights=length, minlength=count)
    top_row, left = np.full(count, mask.shape[0]), np.full(count, mask.shape[1])
    bottom, right = np.zeros(count, int), np.zeros(count, int)
    np.minimum.at(top_row, labels, runs.row)
    np.maximum.at(bottom, labels, runs.row + 1)
    np.minimum.at(left, labels, runs.start)
    np.maximum.at(right, labels, runs.end)
    height, width = mask.shape
    edge = (top_row == 0) | (left == 0) | (bottom == height) | (right == width)
    candidates = ~edge if (~edge).any() and not keep_edges else np.ones(count, bool)
    largest = int(np.argmax(np.where(candidates, size, -1)))
    reach = max(bottom[largest] - top_row[largest], right[largest] - left[largest]) / 2
    near = (
        (bottom >= top_row[largest] - reach)
        & (top_row <= bottom[largest] + reach)
        & (right >= left[largest] - reach)
        & (left <= right[largest] + reach)
    )
    keep = candidates & near & (size >= SPECK_FRACTION * size[largest])
    return _paint(runs, keep[labels], mask.shape)


@dataclass
class _Runs:
    row: np.ndarray
    start: np.ndarray
    end: np.ndarray  # exclusive


def pieces(mask: np.ndarray) -> tuple[_Runs, np.ndarray]:
    """The horizontal runs of True in `mask` (h, w), and each run's 8-connected piece:
    (runs, labels (n_runs,) int, 0 .. pieces - 1)."""
    runs = _runs(mask)
    if len(runs.row) == 0:
        return runs, np.zeros(0, np.intp)
    return runs, _label_runs(runs)


def _runs(mask: np.ndarray) -> _Runs:
    """Horizontal runs of True in row-major order."""
    padded = np.zeros((mask.shape[0], mask.shape[1] + 2), np.int8)
    padded[:, 1:-1] = mask
    change = np.diff(padded, axis=1)
    starts = np.argwhere(change == 1)
    ends = np.argwhere(change == -1)
    return _Runs(starts[:, 0], starts[:, 1], ends[:, 1])


def _label_runs(runs: _Runs) -> np.ndarray:
    """Component label of each run: runs in neighbouring rows that overlap or touch at a
    corner are joined (union-find), so pieces are 8-connected."""
    n = len(runs.row)
    parent = np.arange(n)

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    rows = runs.row
    first = np.searchsorted(rows, np.arange(rows.max() + 2))
    start, end = runs.start.tolist(), runs.end.tolist()
    for r in range(1, rows.max() + 1):
        i, i_stop = int(first[r - 1]), int(first[r])
        j, j_stop = int(first[r]), int(first[r + 1])
        while i < i_stop and j < j_stop:
            if start[i] <= end[j] and start[j] <= end[i]:
                a, b = find(i), find(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
            if end[i] < end[j]:
                i += 1
            else:
                j += 1
    roots = np.array([find(i) for i in range(n)])
    return np.unique(roots, return_inverse=True)[1]


def _paint(runs: _Runs, keep: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The mask made of the kept runs."""
    marks = np.zeros((shape[0], shape[1] + 1), np.int32)
    np.add.at(marks, (runs.row[keep], runs.start[keep]), 1)
    np.add.at(marks, (runs.row[keep], runs.end[keep]), -1)
    return np.cumsum(marks, axis=1)[:, :-1] > 0


def _ink_levels(strength: np.ndarray, mask: np.ndarray, kept: np.ndarray) -> np.ndarray:
    """Ink in [0, 1] with grey edges kept: strength rescaled from the paper's level (0) to the
    strokes' typical level (1), only on and right beside the kept pieces."""
    paper = strength[~mask]
    if paper.size:
        spread = 1.4826 * np.median(np.abs(paper - np.median(paper)))
        low = float(np.median(paper) + 2 * spread)
    else:
        low = 0.0
    high = float(np.percentile(strength[kept], 90))
    high = max(high, low + 1e-3)
    # Grey edges lie just outside the thresholded strokes: keep a 2-pixel rim around them.
    return np.clip((strength - low) / (high - low), 0, 1) * dilate(kept, 2)


def dilate(mask: np.ndarray, radius: int) -> np.ndarray:
    """The mask grown by `radius` pixels (a square neighbourhood), as two 1-d passes."""
    grown = mask.copy()
    for axis in (0, 1):
        source = grown.copy()
        for shift in range(1, radius + 1):
            ahead = [slice(None)] * 2
            behind = [slice(None)] * 2
            ahead[axis], behind[axis] = slice(shift, None), slice(None, -shift)
            grown[tuple(behind)] |= source[tuple(ahead)]
            grown[tuple(ahead)] |= source[tuple(behind)]
    return grown


# -- 6. MNIST's own steps ------------------------------------------------------------------------


def _bounding_box(ink: np.ndarray, level: float = 0.05) -> tuple[int, int, int, int]:
    """(top, left, bottom, right) of the pixels above `level`; bottom, right exclusive."""
    rows = np.flatnonzero((ink > level).any(axis=1))
    cols = np.flatnonzero((ink > level).any(axis=0))
    return int(rows[0]), int(cols[0]), int(rows[-1]) + 1, int(cols[-1]) + 1


def fit_box(crop: np.ndarray, box: int = BOX) -> np.ndarray:
    """Scale a crop (h, w) so its larger side is `box` pixels, keeping the aspect ratio:
    area averaging when shrinking (anti-aliased, as MNIST's), bilinear when enlarging."""
    height, width = crop.shape
    scale = box / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    method = Image.Resampling.BOX if scale < 1 else Image.Resampling.BILINEAR
    fitted = np.asarray(Image.fromarray(crop.astype(np.float32)).resize(size, method))
    return np.clip(fitted, 0, 1).astype(np.float64)


def centre_by_mass(patch: np.ndarray, side: int = SIDE, centre: float = CENTRE) -> np.ndarray:
    """Place `patch` in a side x side field, shifted by whole pixels so its centre of mass
    lies at (centre, centre); what would fall outside the field is cut off."""
    height, width = patch.shape
    total = patch.sum()
    if total <= 0:
        com_y, com_x = (height - 1) / 2, (width - 1) / 2
    else:
        com_y = float((patch.sum(axis=1) * np.arange(height)).sum() / total)
        com_x = float((patch.sum(axis=0) * np.arange(width)).sum() / total)
    top, left = round(centre - com_y), round(centre - com_x)
    field_ = np.zeros((side, side))
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + height, side), min(left + width, side)
    if y1 > y0 and x1 > x0:
        field_[y0:y1, x0:x1] = patch[y0 - top : y1 - top, x0 - left : x1 - left]
    return field_

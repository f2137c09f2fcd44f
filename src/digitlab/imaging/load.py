"""Reading a picture safely: a file, a PIL image or an array becomes float RGB or grey.

Every way a picture can be unusable — no such file, an empty file, not an image, a truncated
image, or one so large that decoding it would take gigabytes (a decompression bomb: a few
kilobytes of PNG that claim 100,000 x 100,000 pixels) — is one `ImageError` naming the file.
The size is checked from the header, before a single pixel is decoded.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from digitlab.errors import ImageError
from digitlab.i18n import _

#: the most pixels digitlab decodes: a 48-megapixel phone photo fits, a bomb does not
MAX_PIXELS = 64_000_000
#: pictures are reduced to at most this many pixels on their long side before the ink is
#: looked for: plenty for a digit that becomes 20x20, and it keeps every step fast
WORKING_SIDE = 640


def open_image(source, name: str | None = None) -> Image.Image:
    """A decoded PIL image from a path, a PIL image or an array (H, W[, 3|4]) of uint8 or
    float in [0, 1]; upright (a phone's EXIF rotation applied) and at most WORKING_SIDE pixels
    on its long side. Raises ImageError for anything that is not a usable picture."""
    if isinstance(source, Image.Image):
        name = name or _("the image")
        _check_size(source, name)
        return _upright_and_small(source, name)
    if isinstance(source, np.ndarray):
        return _from_array(source, name or _("the array"))
    if not isinstance(source, (str, os.PathLike)):
        raise ImageError(
            _("cannot read {what}: pass a file path, a PIL image or a NumPy array").format(
                what=type(source).__name__
            )
        )
    path = Path(source)
    name = name or str(path)
    if path.is_dir():
        raise ImageError(_("cannot read {name}: it is a folder, not an image").format(name=name))
    if not path.is_file():
        raise ImageError(_("cannot read {name}: no such file; check the path").format(name=name))
    if path.stat().st_size == 0:
        raise ImageError(_("cannot read {name}: the file is empty (0 bytes)").format(name=name))
    try:
        with warnings.catch_warnings():
            # Pillow warns above MAX_IMAGE_PIXELS and raises above twice that; both are bombs.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(path)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _too_large(name, None) from None
    except UnidentifiedImageError:
        raise ImageError(
            _("cannot read {name}: it is not an image (PNG, JPEG, BMP, GIF, TIFF or WebP)").format(
                name=name
            )
        ) from None
    except OSError as exc:
        raise ImageError(
            _("cannot read {name}: {reason}").format(name=name, reason=exc.strerror or exc)
        ) from None
    with image:
        _check_size(image, name)
        return _upright_and_small(image, name)


def to_float(image: Image.Image) -> np.ndarray:
    """(H, W, C) float32 in [0, 1], C = 1 (grey) or 3 (colour). Transparency is flattened
    onto a background that contrasts with the opaque pixels (white under dark strokes, black
    under light ones), so a drawing on a transparent canvas keeps its ink."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I", "F"):
        array = np.asarray(image, dtype=np.float64)
        top = 65535.0 if image.mode.startswith("I;16") or array.max() > 255 else 255.0
        if image.mode == "F":
            top = max(1.0, float(np.nanmax(array))) if np.isfinite(array).all() else 1.0
        return np.clip(np.nan_to_num(array / top), 0, 1).astype(np.float32)[:, :, None]
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    if image.mode in ("1", "L"):
        return (np.asarray(image.convert("L"), dtype=np.float32) / 255)[:, :, None]
    if image.mode in ("LA", "PA", "RGBA", "La", "RGBa"):
        rgba = np.asarray(image.convert("RGBA"), dtype=np.float32) / 255
        colour, alpha = rgba[:, :, :3], rgba[:, :, 3:]
        if alpha.min() == 1.0:
            return colour
        opaque = alpha[:, :, 0] > 0.5
        ink = colour[opaque].mean() if opaque.any() else 0.0
        backdrop = 1.0 if ink < 0.5 else 0.0
        return colour * alpha + backdrop * (1 - alpha)
    return np.asarray(image.convert("RGB"), dtype=np.float32) / 255


def _check_size(image: Image.Image, name: str) -> None:
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise _too_large(name, (width, height))
    if width == 0 or height == 0:
        raise ImageError(_("cannot read {name}: the image has no pixels").format(name=name))


def _too_large(name: str, size: tuple[int, int] | None) -> ImageError:
    limit = MAX_PIXELS // 1_000_000
    if size is None:
        return ImageError(
            _(
                "cannot read {name}: it claims more pixels than digitlab decodes ({limit} "
                "million; a decompression bomb?); shrink it first"
            ).format(name=name, limit=limit)
        )
    return ImageError(
        _(
            "cannot read {name}: it is {width:,}x{height:,} pixels, more than the {limit} million "
            "digitlab decodes (a decompression bomb?); shrink it first"
        ).format(name=name, width=size[0], height=size[1], limit=limit)
    )


def _upright_and_small(image: Image.Image, name: str) -> Image.Image:
    """Decode (at reduced size where JPEG allows), rotate as EXIF says, shrink to WORKING_SIDE."""
    try:
        if image.format == "JPEG":
            # Let the JPEG decoder drop resolution by 1/2, 1/4 or 1/8 while decoding: a 12 MP
            # photo then never exists in memory at full size.
            image.draft(image.mode, (WORKING_SIDE, WORKING_SIDE))
        if getattr(image, "n_frames", 1) > 1:
            image.seek(0)  # an animated GIF or a multi-page TIFF: the first frame
        image.load()
        image = ImageOps.exif_transpose(image)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as exc:
        raise ImageError(
            _("cannot read {name}: the image data is damaged ({reason})").format(
                name=name, reason=exc
            )
        ) from None
    width, height = image.size
    scale = WORKING_SIDE / max(width, height)
    if scale < 1:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        if image.mode not in ("1", "L", "LA", "RGB", "RGBA", "I", "F"):
            image = image.convert("RGBA" if "A" in image.mode else "RGB")
        if image.mode == "1":
            image = image.convert("L")
        image = image.resize(size, Image.Resampling.BOX)  # area average: no aliasing
    return image


def _from_array(array: np.ndarray, name: str) -> Image.Image:
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[:, :, 0]
    if array.ndim not in (2, 3) or (array.ndim == 3 and array.shape[2] not in (3, 4)):
        raise ImageError(
            _(
                "cannot read {name}: an image array is (H, W), (H, W, 3) or (H, W, 4), not {shape}"
            ).format(name=name, shape=array.shape)
        )
    if array.size == 0:
        raise ImageError(_("cannot read {name}: the image has no pixels").format(name=name))
    if array.shape[0] * array.shape[1] > MAX_PIXELS:
        raise _too_large(name, (array.shape[1], array.shape[0]))
    if array.dtype != np.uint8:
        values = np.asarray(array, dtype=np.float64)
        if not np.isfinite(values).all() or values.min() < 0 or values.max() > 1:
            raise ImageError(
                _(
                    "cannot read {name}: a float image array needs values from 0 to 1 "
                    "(or pass uint8 from 0 to 255)"
                ).format(name=name)
            )
        array = np.round(values * 255).astype(np.uint8)
    return _upright_and_small(Image.fromarray(array), name)

"""A drawing or picture sent to the server, decoded within a budget.

A PNG's header can claim any size: 663 kB of PNG can hold 8,192 x 8,192 pixels of 16 bits,
1 GB once decoded. So a drawing's size is read from its header (Pillow's `Image.open` reads
nothing more) and refused above MAX_DRAWING_PIXELS before a pixel is decoded; its bytes are
already capped by the request body limit; a phone's JPEG photo over the budget is decoded at
1/2, 1/4 or 1/8 scale instead. Only the formats a canvas or a camera makes are decoded.
"""

from __future__ import annotations

import base64
import binascii
import io
import math

import numpy as np
from fastapi import HTTPException
from PIL import Image, UnidentifiedImageError

from digitlab.i18n import _

#: the most pixels a drawing may have, read from its header before decoding: 2048x2048, 53
#: times a 280x280 canvas (a high-DPI phone's 840x840 or a long 8400x280 strip fits), and at
#: most 34 MB decoded even at 16 bits per channel with alpha. 4096x4096 is refused.
MAX_DRAWING_PIXELS = 2048 * 2048
#: what browsers' canvas.toDataURL() and common drawing tools write; no TIFF, GIF, ...
DRAWING_FORMATS = ("PNG", "JPEG", "BMP")
#: the Content-Types of a picture sent as a body of its own (an upload or a dropped file)
PICTURE_TYPES = ("image/png", "image/jpeg")
IMAGE_SIDE = 28


def decode_drawing(image: str | None, pixels: list[list[float]] | None) -> Image.Image:
    """The drawing as a PIL image (undecoded for a picture: only its header is read), from
    exactly one of `image` (base64 or a data: URL of a PNG/JPEG/BMP) or `pixels` (28x28
    values in [0, 1]). Raises HTTPException naming what is wrong."""
    if (image is None) == (pixels is None):
        raise HTTPException(
            422, _('send exactly one of "image" (a PNG as base64) or "pixels" (28x28 numbers).')
        )
    if pixels is not None:
        return _from_pixels(pixels)
    return open_picture(_base64_bytes(image))


def _from_pixels(rows: list[list[float]]) -> Image.Image:
    pixels = np.asarray(rows, dtype=float) if _rectangular(rows) else None
    if pixels is None or pixels.shape != (IMAGE_SIDE, IMAGE_SIDE):
        shape = "ragged rows" if pixels is None else "x".join(map(str, pixels.shape))
        raise HTTPException(
            422, _("pixels must be 28 rows of 28 numbers, got {shape}.").format(shape=shape)
        )
    if not np.all(np.isfinite(pixels)) or pixels.min() < 0 or pixels.max() > 1:
        raise HTTPException(422, _("pixels must be numbers from 0 (background) to 1 (ink)."))
    return Image.fromarray(np.round(pixels * 255).astype(np.uint8), mode="L")


def _rectangular(rows: list[list[float]]) -> bool:
    return len({len(row) for row in rows}) <= 1


def _base64_bytes(image: str) -> bytes:
    """The picture's bytes from base64 or a data: URL ("data:image/png;base64,....")."""
    if image.startswith("data:"):
        _media_type, comma, image = image.partition(",")
        if not comma:
            raise HTTPException(
                422,
                _(
                    "image is a data: URL without a comma before its data; send "
                    "canvas.toDataURL() whole (data:image/png;base64,...)."
                ),
            )
    try:
        raw = base64.b64decode(image, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(
            422,
            _("image is not valid base64; send canvas.toDataURL() or the base64 of a PNG file."),
        ) from None
    if not raw:
        raise HTTPException(422, _("image is empty; send canvas.toDataURL() of the drawing."))
    return raw


def open_picture(raw: bytes) -> Image.Image:
    """The picture in `raw` (a PNG, JPEG or BMP file's bytes), opened (header only) and
    checked against MAX_DRAWING_PIXELS. Raises HTTPException naming what is wrong."""
    try:
        picture = Image.open(io.BytesIO(raw), formats=DRAWING_FORMATS)
    except Image.DecompressionBombError:
        raise HTTPException(
            413, _("image has more pixels than Pillow opens at all; send a smaller picture.")
        ) from None
    except (UnidentifiedImageError, OSError, SyntaxError):
        raise HTTPException(415, _("image is not a PNG, JPEG or BMP picture.")) from None
    width, height = picture.size
    if width * height > MAX_DRAWING_PIXELS and picture.format == "JPEG":
        # a phone photo: JPEG decodes at 1/2, 1/4 or 1/8 scale directly (the DCT is cut
        # short), so a 4000x3000 picture costs a 2000x1500 one; draft() takes the scale
        shrink = next((r for r in (2, 4, 8) if width * height / r**2 <= MAX_DRAWING_PIXELS), 8)
        picture.draft(picture.mode, (math.ceil(width / shrink), math.ceil(height / shrink)))
        width, height = picture.size
    if width * height > MAX_DRAWING_PIXELS:
        raise HTTPException(
            413,
            _(
                "image is {width:,}x{height:,} pixels, more than the {limit:,} (2048x2048) the "
                "server decodes; send a smaller picture."
            ).format(width=width, height=height, limit=MAX_DRAWING_PIXELS),
        )
    return picture

"""JPEG validation for uploaded frames: magic bytes, then the header must parse.

Only the header is parsed (Pillow reads markers up to the frame header, no pixel decode), so
this costs microseconds and is safe to call on the event loop.
"""

from __future__ import annotations

import io

from PIL import Image, UnidentifiedImageError

from server.errors import ApiError

# JPEG files start with SOI (FF D8) followed by the next marker's FF.
_SOI = b"\xff\xd8\xff"


def jpeg_size(data: bytes) -> tuple[int, int]:
    """Return ``(width, height)`` in pixels of a JPEG.

    Raises:
        ApiError 422 ``empty_frame``: no bytes.
        ApiError 415 ``unsupported_media_type``: not JPEG magic bytes.
        ApiError 422 ``invalid_jpeg``: JPEG magic but the header does not parse.
    """
    if not data:
        raise ApiError(422, "empty_frame", "the frame body is empty")
    if not data.startswith(_SOI):
        raise ApiError(
            415, "unsupported_media_type", "the frame body is not a JPEG (bad magic bytes)",
            magic=data[:4].hex(),
        )
    try:
        with Image.open(io.BytesIO(data), formats=("JPEG",)) as img:
            width, height = img.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ApiError(422, "invalid_jpeg", f"the JPEG header does not decode: {exc}") from None
    if width <= 0 or height <= 0:
        raise ApiError(422, "invalid_jpeg", "the JPEG header declares an empty image")
    return width, height

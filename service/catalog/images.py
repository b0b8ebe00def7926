"""Uploaded image bytes: decoded with Pillow (call it off the event loop), checked, described."""

from __future__ import annotations

import hashlib
import io
import warnings
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from service.errors import InvalidInput, TooLarge

# Pillow format name -> (file extension, content type). Anything else is refused: these are
# the formats browsers display, which the QA page needs.
FORMATS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}


@dataclass(frozen=True, slots=True)
class ImageInfo:
    width: int
    height: int
    format: str
    extension: str
    content_type: str
    sha256: str


def inspect_image(data: bytes, max_bytes: int, max_pixels: int) -> ImageInfo:
    """Decode `data` fully and describe it; InvalidInput or TooLarge if it is unacceptable."""
    if not data:
        raise InvalidInput("the image file is empty")
    if len(data) > max_bytes:
        raise TooLarge(f"the image is {len(data)} bytes; the limit is {max_bytes} bytes")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > max_pixels:
                    raise TooLarge(
                        f"the image is {width}x{height} pixels; the limit is {max_pixels} pixels"
                    )
                image_format = image.format or ""
                image.load()  # a full decode: truncated or corrupt files fail here
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise TooLarge(f"the image has more than {max_pixels} pixels") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        raise InvalidInput("the file is not a readable image") from None
    if image_format not in FORMATS:
        allowed = ", ".join(sorted(FORMATS))
        raise InvalidInput(f"unsupported image format {image_format or '?'}; use {allowed}")
    extension, content_type = FORMATS[image_format]
    return ImageInfo(
        width=width,
        height=height,
        format=image_format,
        extension=extension,
        content_type=content_type,
        sha256=hashlib.sha256(data).hexdigest(),
    )

"""Uploaded image bytes: decoded with Pillow (call it off the event loop), checked, described."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from service.errors import InvalidInput, TooLarge
from service.imaging import FORMAT_NAMES, FORMATS, TooManyPixels, format_of, open_image


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
        with open_image(data, max_pixels) as image:
            width, height = image.size
            image_format = format_of(image)
            image.load()  # a full decode: truncated or corrupt files fail here
    except (TooManyPixels, Image.DecompressionBombError):
        raise TooLarge(f"the image has more than {max_pixels} pixels") from None
    except UnidentifiedImageError:
        # Other formats are never parsed, so "not an image" and "BMP" look the same here.
        raise InvalidInput(f"the file is not a readable image ({FORMAT_NAMES})") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise InvalidInput("the file is not a readable image") from None
    extension, content_type = FORMATS[image_format]
    return ImageInfo(
        width=width,
        height=height,
        format=image_format,
        extension=extension,
        content_type=content_type,
        sha256=hashlib.sha256(data).hexdigest(),
    )

"""Decode downloaded bytes with Pillow (off the event loop) and measure the image."""

from __future__ import annotations

import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
_STORED_AS = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}


class DecodeError(Exception):
    """The bytes are not a usable JPEG, PNG, WebP or GIF image."""


@dataclass(frozen=True, slots=True)
class Decoded:
    width: int
    height: int
    format: str
    extension: str
    content_type: str

    @property
    def perimeter(self) -> int:
        return perimeter(self.width, self.height)


def perimeter(width: int, height: int) -> int:
    return 2 * (height + width)


def decode(data: bytes, max_pixels: int) -> Decoded:
    """Open, check the pixel count, then decode fully so that truncated files fail here.

    The limit is checked here from the header, before any pixel is decoded, rather than by
    setting the process-wide `Image.MAX_IMAGE_PIXELS` that other features share; Pillow's own
    check (twice its default, about 179 M pixels) still raises DecompressionBombError above it.
    """
    try:
        with Image.open(io.BytesIO(data), formats=FORMATS) as image:
            width, height = image.size
            if width * height > max_pixels:
                raise DecodeError(
                    f"{width}x{height} is more than {max_pixels} pixels (MAX_IMAGE_PIXELS)"
                )
            fmt = image.format or ""
            if fmt == "JPEG":
                # Decode at 1/8 scale: the whole stream is still parsed, at a fraction of the cost.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
    except UnidentifiedImageError:
        raise DecodeError("not a JPEG, PNG, WebP or GIF image") from None
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise DecodeError(f"corrupt image data ({exc})") from None
    extension, content_type = _STORED_AS[fmt]
    return Decoded(width, height, fmt, extension, content_type)

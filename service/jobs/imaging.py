"""Decode downloaded bytes with Pillow (off the event loop) and measure the image."""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from service.imaging import FORMATS, TooManyPixels, open_image


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
    """Open (see `service.imaging`), then decode fully so that truncated files fail here."""
    try:
        with open_image(data, max_pixels) as image:
            width, height = image.size
            fmt = image.format or ""
            if fmt == "JPEG":
                # Decode at 1/8 scale: the whole stream is still parsed, at a fraction of the cost.
                image.draft("RGB", (max(1, width // 8), max(1, height // 8)))
            image.load()
    except TooManyPixels as exc:
        raise DecodeError(str(exc)) from None
    except UnidentifiedImageError:
        raise DecodeError("not a JPEG, PNG, WebP or GIF image") from None
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise DecodeError(f"corrupt image data ({exc})") from None
    extension, content_type = FORMATS[fmt]
    return Decoded(width, height, fmt, extension, content_type)

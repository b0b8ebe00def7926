"""Uploaded image bytes (catalog uploads, searches): decoded whole with Pillow, checked,
described.

The decode draws the image's pixels from the process's pixel budget (`service.imaging`):
`inspect_upload` awaits its turn on the event loop, then decodes on the decode threads; past
PIXEL_WAIT it raises `BudgetExhausted` (503 with Retry-After).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from service.errors import InvalidInput, TooLarge
from service.image_headers import HeaderTooComplex
from service.imaging import (
    FORMAT_NAMES,
    FORMATS,
    TooManyPixels,
    decode_reserved,
    format_of,
    open_image,
    pixel_budget,
    pixel_wait,
)


@dataclass(frozen=True, slots=True)
class ImageInfo:
    width: int
    height: int
    format: str
    extension: str
    content_type: str
    sha256: str


def _header(data: bytes, max_bytes: int, max_pixels: int) -> tuple[int, int]:
    """The size the header claims, once the bytes are acceptable to open."""
    if not data:
        raise InvalidInput("the image file is empty")
    if len(data) > max_bytes:
        raise TooLarge(f"the image is {len(data)} bytes; the limit is {max_bytes} bytes")
    with _refusals(max_pixels), open_image(data, max_pixels) as image:
        return image.size


@contextmanager
def _refusals(max_pixels: int) -> Iterator[None]:
    """Pillow's and our exceptions, as the 400 and 413 an upload gets."""
    try:
        yield
    except (TooManyPixels, Image.DecompressionBombError):
        raise TooLarge(f"the image has more than {max_pixels} pixels") from None
    except HeaderTooComplex as exc:
        raise InvalidInput(f"the file is not a readable image ({exc})") from None
    except UnidentifiedImageError:
        # Other formats are never parsed, so "not an image" and "BMP" look the same here.
        raise InvalidInput(f"the file is not a readable image ({FORMAT_NAMES})") from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise InvalidInput("the file is not a readable image") from None


def _decode(data: bytes, max_pixels: int) -> ImageInfo:
    """A full decode: truncated or corrupt files fail here."""
    with _refusals(max_pixels), open_image(data, max_pixels) as image:
        width, height = image.size
        image_format = format_of(image)
        image.load()
    extension, content_type = FORMATS[image_format]
    return ImageInfo(
        width=width,
        height=height,
        format=image_format,
        extension=extension,
        content_type=content_type,
        sha256=hashlib.sha256(data).hexdigest(),
    )


def inspect_image(data: bytes, max_bytes: int, max_pixels: int) -> ImageInfo:
    """Decode `data` fully and describe it; InvalidInput or TooLarge if it is unacceptable.
    Blocks while waiting for its pixels (threads and scripts; requests use inspect_upload)."""
    width, height = _header(data, max_bytes, max_pixels)
    with pixel_budget().reserve(width * height, pixel_wait()):
        return _decode(data, max_pixels)


async def inspect_upload(data: bytes, max_bytes: int, max_pixels: int) -> ImageInfo:
    """`inspect_image` for a request: the header and the decode in threads, the wait for the
    pixel budget on the event loop (no thread is held while it waits)."""
    width, height = await asyncio.to_thread(_header, data, max_bytes, max_pixels)
    return await decode_reserved(width * height, _decode, data, max_pixels)

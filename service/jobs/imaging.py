"""Measure downloaded bytes: the size from the header, plus a check that the file is whole.

Decoding a 12-megapixel phone photo costs tens of milliseconds; the perimeter needs only the
header. What a full decode would also have caught, a file cut short in transfer, is checked
from the container's own structure instead: a JPEG's end-of-image marker after its first
scan, a PNG's IEND chunk, a WebP's RIFF length. (Damage inside a complete file is left to
the embedding step, which decodes at reduced size later.) GIFs, rare and small, are decoded.
"""

from __future__ import annotations

from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from service.imaging import FORMATS, TooManyPixels, format_of, open_image

_JPEG_EOI = b"\xff\xd9"
_JPEG_SOS = 0xDA
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})  # markers without a length
_PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


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


def _jpeg_scan_start(data: bytes) -> int:
    """The offset where the first scan's coded data begins (after the SOS header)."""
    position = 2  # after SOI
    while position + 4 <= len(data):
        if data[position] != 0xFF:
            raise DecodeError("corrupt image data (a JPEG segment does not start with a marker)")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            position += 1
        elif marker in _JPEG_STANDALONE:
            position += 2
        else:
            length = int.from_bytes(data[position + 2 : position + 4], "big")
            if marker == _JPEG_SOS:
                return position + 2 + length
            position += 2 + length
    raise DecodeError("truncated image data (the JPEG ends before its first scan)")


def check_whole(data: bytes, fmt: str) -> None:
    """Raise DecodeError when the file was cut short (see the module's docstring).

    In a JPEG's coded data every 0xFF byte is stuffed (FF 00) or a restart marker, so an
    FF D9 after the first scan header can only be the end-of-image marker (an EXIF
    thumbnail's own FF D9 comes before the first scan)."""
    if fmt == "JPEG":
        if data.rfind(_JPEG_EOI) < _jpeg_scan_start(data):
            raise DecodeError("truncated image data (the JPEG has no end-of-image marker)")
    elif fmt == "PNG":
        if data.rfind(_PNG_IEND) < 0:
            raise DecodeError("truncated image data (the PNG has no IEND chunk)")
    elif fmt == "WEBP":
        declared = int.from_bytes(data[4:8], "little") + 8
        if len(data) < declared:
            raise DecodeError(
                f"truncated image data (the WebP declares {declared} bytes, got {len(data)})"
            )


def measure(data: bytes, max_pixels: int) -> Decoded:
    """Size and format from the header (see `service.imaging`), once the file is whole."""
    try:
        with open_image(data, max_pixels) as image:
            width, height = image.size
            fmt = format_of(image)
            if fmt == "GIF":
                image.load()
    except TooManyPixels as exc:
        raise DecodeError(str(exc)) from None
    except UnidentifiedImageError:
        raise DecodeError("not a JPEG, PNG, WebP or GIF image") from None
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise DecodeError(f"corrupt image data ({exc})") from None
    if fmt not in FORMATS:  # open_image parses nothing else; never a KeyError in the worker
        raise DecodeError(f"unsupported image format {fmt!r}")
    check_whole(data, fmt)
    extension, content_type = FORMATS[fmt]
    return Decoded(width, height, fmt, extension, content_type)

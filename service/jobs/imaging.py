"""Measure downloaded bytes: the size from the header, then proof that the data holds a picture
of that size.

The perimeter comes from the header, so the header alone must not be believed: a 1x1 PNG can
claim 4000x3000, a JPEG's frame 7000x7000 over 640x480 of coded data. `verify` decodes
enough to know the data covers the whole picture, at the least cost each format allows:

- JPEG, one Huffman-coded scan (every camera's): decoded at 1/8 scale (libjpeg's DCT
  scaling, one grey pixel per 8x8 block), fed only up to the end of its coded data with
  the end-of-image marker left out. libjpeg pads a scan that ends early with grey and says
  nothing; without the marker it asks for more data instead, and that is a failure here.
- JPEG, progressive or several scans: decoded at 1/8 scale whole; a last block that came
  out exactly mid-grey in every channel is what libjpeg fills missing data with.
- PNG: the pixel data is inflated and counted, never kept (constant memory): it must come
  to the size the header's width, height, depth and interlacing need, and every chunk's
  CRC must hold.
- WebP and GIF: decoded whole (libwebp and Pillow's GIF decoder check their own streams).

What a decode holds is drawn from the process's pixel budget (`service.imaging`).
"""

from __future__ import annotations

import io
import math
import re
import zlib
from dataclasses import dataclass

import numpy as np
from PIL import Image, UnidentifiedImageError

from service.image_headers import (
    PNG_SIGNATURE,
    HeaderError,
    HeaderTooComplex,
    JpegLayout,
    jpeg_layout,
)
from service.imaging import FORMATS, TooManyPixels, format_of, open_image, pixel_budget, pixel_wait

# In a scan's coded data every 0xFF is stuffed (FF 00) or a restart marker (FF D0-D7); fill
# bytes (FF FF) may come before a marker. The first other FF xx ends the scan. (No `\xff+`:
# a leading repeat costs the regex engine its fast literal search, 15x slower on 2 MB.)
_JPEG_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_EOI, _JPEG_SOI = 0xD9, 0xD8
# libjpeg reads up to 57 bits ahead of the symbol it decodes; padding past the coded data lets
# it finish the last block without reading a marker (zero bytes are no marker).
_JPEG_PADDING = b"\x00" * 16
_MID_GREY = 128
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
# Adam7's passes: (first column, first row, column step, row step)
_ADAM7 = (
    (0, 0, 8, 8),
    (4, 0, 8, 8),
    (0, 4, 4, 8),
    (2, 0, 4, 4),
    (0, 2, 2, 4),
    (1, 0, 2, 2),
    (0, 1, 1, 2),
)
_INFLATE_STEP = 1 << 20  # bytes of inflated PNG data held at once


class DecodeError(Exception):
    """The bytes are not a usable JPEG, PNG, WebP or GIF image."""


@dataclass(frozen=True, slots=True)
class Header:
    """What the header claims."""

    width: int
    height: int
    format: str
    jpeg: JpegLayout | None = None

    @property
    def decode_pixels(self) -> int:
        """Pixels `verify` holds decoded at once (its draw on the pixel budget)."""
        if self.format == "JPEG":
            return math.ceil(self.width / 8) * math.ceil(self.height / 8)
        if self.format == "PNG":
            return 0  # inflated a megabyte at a time and counted
        return self.width * self.height


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


def read_header(data: bytes | bytearray, max_pixels: int) -> Header:
    """Size and format from the header (see `service.imaging`); nothing is decoded."""
    try:
        with open_image(data, max_pixels) as image:
            width, height = image.size
            fmt = format_of(image)
    except TooManyPixels as exc:
        raise DecodeError(str(exc)) from None
    except HeaderTooComplex as exc:
        raise DecodeError(str(exc)) from None
    except HeaderError as exc:
        raise DecodeError(f"corrupt image data ({exc})") from None
    except UnidentifiedImageError:
        raise DecodeError("not a JPEG, PNG, WebP or GIF image") from None
    except Image.DecompressionBombError as exc:
        raise DecodeError(f"refused as a decompression bomb ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise DecodeError(f"corrupt image data ({exc})") from None
    if fmt not in FORMATS:  # open_image parses nothing else; never a KeyError in the worker
        raise DecodeError(f"unsupported image format {fmt!r}")
    layout = None
    if fmt == "JPEG":
        try:
            layout = jpeg_layout(data)
        except HeaderError as exc:
            raise DecodeError(f"corrupt image data ({exc})") from None
        if layout is None:
            raise DecodeError("truncated image data (the JPEG ends before its first scan)")
    return Header(width, height, fmt, layout)


def _not_covered(header: Header, why: str) -> DecodeError:
    return DecodeError(
        f"the image data does not cover the {header.width}x{header.height} picture its "
        f"header declares ({why})"
    )


def _verify_jpeg(data: bytes | bytearray, header: Header) -> None:
    layout = header.jpeg
    assert layout is not None
    end = _JPEG_MARKER.search(data, layout.scan_start)
    if end is None:
        raise DecodeError("truncated image data (the JPEG has no end-of-image marker)")
    marker = data[end.end() - 1]
    cut = end.start()
    while cut > layout.scan_start and data[cut - 1] == 0xFF:  # fill bytes before the marker
        cut -= 1
    if marker == _JPEG_SOI:
        raise DecodeError("corrupt image data (another JPEG starts inside this one's image data)")
    size = (math.ceil(layout.width / 8), math.ceil(layout.height / 8))
    if layout.single_scan_huffman:
        if marker != _JPEG_EOI:
            raise DecodeError(f"corrupt image data (marker FF{marker:02X} inside the image data)")
        _jpeg_decode(memoryview(data)[:cut].tobytes() + _JPEG_PADDING, header, size)
        return
    if data.rfind(b"\xff\xd9") < layout.scan_start:
        raise DecodeError("truncated image data (the JPEG has no end-of-image marker)")
    # The last MCU (one pixel per block at 1/8 scale): exactly mid-grey in every channel is
    # how libjpeg fills blocks its data never reached.
    h = max((s[0] for s in layout.sampling), default=1)
    v = max((s[1] for s in layout.sampling), default=1)
    corner = _jpeg_decode(bytes(data), header, size, corner=(h, v))
    if corner is not None and bool(np.all(corner == _MID_GREY)):
        raise _not_covered(header, "the JPEG's coded data ends before its last block")


def _jpeg_decode(
    fed: bytes, header: Header, size: tuple[int, int], corner: tuple[int, int] | None = None
) -> np.ndarray | None:
    """Decode at 1/8 scale (grey, or YCbCr when the bottom-right `corner` of h x v pixels
    is wanted: None for CMYK, where no grey fill can be told)."""
    try:
        with Image.open(io.BytesIO(fed), formats=("JPEG",)) as image:
            image.draft("L" if corner is None else "YCbCr", size)
            image.load()
            if corner is None or image.mode not in ("L", "YCbCr"):
                return None
            h, v = corner
            return np.asarray(image)[-v:, -h:]
    except OSError as exc:
        if "truncated" in str(exc):
            raise _not_covered(header, "the JPEG's coded data ends early") from None
        raise DecodeError(f"corrupt image data ({exc})") from None
    except (SyntaxError, ValueError, EOFError) as exc:
        raise DecodeError(f"corrupt image data ({exc})") from None


def _png_expected_size(width: int, height: int, depth: int, colour: int, interlace: int) -> int:
    bits = _PNG_CHANNELS.get(colour, 0) * depth
    if not bits:
        raise DecodeError(f"corrupt image data (PNG colour type {colour} / depth {depth})")
    passes = _ADAM7 if interlace else ((0, 0, 1, 1),)
    total = 0
    for x0, y0, dx, dy in passes:
        columns = -(-(width - x0) // dx) if width > x0 else 0
        rows = -(-(height - y0) // dy) if height > y0 else 0
        if columns and rows:
            total += rows * (1 + -(-columns * bits // 8))
    return total


def _verify_png(data: bytes | bytearray, header: Header) -> None:
    view = memoryview(data)
    position = len(PNG_SIGNATURE)
    inflater = zlib.decompressobj()
    expected = produced = 0
    while True:
        if position + 12 > len(data):
            raise DecodeError("truncated image data (the PNG ends before its IEND chunk)")
        length = int.from_bytes(view[position : position + 4], "big")
        kind = bytes(view[position + 4 : position + 8])
        body = view[position + 8 : position + 8 + length]
        crc = view[position + 8 + length : position + 12 + length]
        if len(crc) < 4:
            raise DecodeError(f"truncated image data (the PNG ends inside its {kind!r} chunk)")
        if zlib.crc32(view[position + 4 : position + 8 + length]) != int.from_bytes(crc, "big"):
            raise DecodeError(f"corrupt image data (the PNG's {kind.decode('latin-1')} chunk "
                              "fails its CRC)")  # fmt: skip
        if kind == b"IHDR" and len(body) == 13:
            expected = _png_expected_size(header.width, header.height, body[8], body[9], body[12])
        elif kind == b"IDAT" and produced < expected:
            produced += _inflate(inflater, body, expected - produced)
        elif kind == b"IEND":
            break
        position += 12 + length
    if produced < expected:
        raise _not_covered(header, f"the PNG's pixel data inflates to {produced} of the "
                                   f"{expected} bytes it needs")  # fmt: skip


def _inflate(inflater: zlib._Decompress, chunk: memoryview, wanted: int) -> int:
    """Inflate `chunk` a megabyte at a time, keeping nothing; the bytes it gave (at most a
    step past `wanted`: the rest of the stream need not be inflated)."""
    produced = 0
    pending: bytes | memoryview = chunk
    try:
        while pending and produced < wanted and not inflater.eof:
            produced += len(inflater.decompress(pending, _INFLATE_STEP))
            pending = inflater.unconsumed_tail
    except zlib.error as exc:
        raise DecodeError(f"corrupt image data (the PNG's pixel data: {exc})") from None
    return produced


def _verify_whole(data: bytes | bytearray, header: Header) -> None:
    if header.format == "WEBP":
        declared = int.from_bytes(data[4:8], "little") + 8
        if len(data) < declared:
            raise DecodeError(
                f"truncated image data (the WebP declares {declared} bytes, got {len(data)})"
            )
    try:
        with Image.open(io.BytesIO(data), formats=(header.format,)) as image:
            image.load()
    except OSError as exc:
        raise DecodeError(f"corrupt image data ({exc})") from None
    except (SyntaxError, ValueError, EOFError) as exc:
        raise DecodeError(f"corrupt image data ({exc})") from None


def verify(data: bytes | bytearray, header: Header) -> None:
    """Raise DecodeError unless the data holds a whole picture of the header's size (see the
    module's docstring). Hold `header.decode_pixels` of the pixel budget around it."""
    if header.format == "JPEG":
        _verify_jpeg(data, header)
    elif header.format == "PNG":
        _verify_png(data, header)
    else:
        _verify_whole(data, header)


def measure(data: bytes | bytearray, max_pixels: int, wait: float | None = None) -> Decoded:
    """`read_header` and `verify`, the decode inside a reservation on the pixel budget
    (blocking: for threads and tests; the job worker awaits its reservation instead)."""
    header = read_header(data, max_pixels)
    with pixel_budget().reserve(header.decode_pixels, pixel_wait() if wait is None else wait):
        verify(data, header)
    return described(header)


def described(header: Header) -> Decoded:
    extension, content_type = FORMATS[header.format]
    return Decoded(header.width, header.height, header.format, extension, content_type)

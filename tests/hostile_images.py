"""Hostile image files, rebuilt from the recipes of issue 18 with Pillow and a few bytes.

Shared by the measuring tests (tests/jobs), the upload and memory tests (tests/hardening) and
the header-walk caps. Every recipe is deterministic.
"""

from __future__ import annotations

import io
import random
import struct
import zlib

from PIL import Image

PNG_IEND = b"\x00\x00\x00\x00IEND\xaeB`\x82"


def photo(width: int, height: int, fmt: str = "JPEG", **options: object) -> bytes:
    """A photo-like picture (gradients and noise: real coded data, no flat areas)."""
    grey = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    picture = Image.merge(
        "RGB", (grey, grey.transpose(Image.Transpose.ROTATE_90).resize((width, height)), noise)
    )
    out = io.BytesIO()
    picture.save(out, fmt, **options)
    return out.getvalue()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_claiming(width: int, height: int) -> bytes:
    """A 1x1 PNG whose IHDR says `width` x `height` (its CRC fixed to match)."""
    out = io.BytesIO()
    Image.new("RGB", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", zlib.crc32(bytes(data[ihdr : ihdr + 17])))
    return bytes(data)


def png_cut_with_iend_in_text() -> bytes:
    """A PNG cut in half, an IEND chunk's bytes hidden in a text chunk before its pixels."""
    data = photo(400, 300, "PNG")
    ihdr_end = 8 + 25
    text = png_chunk(b"tEXt", b"Comment\x00" + PNG_IEND)
    whole = data[:ihdr_end] + text + data[ihdr_end:]
    return whole[: len(whole) // 2]


def half_jpeg_then_whole() -> bytes:
    first, second = photo(640, 480), photo(320, 240)
    return first[: len(first) // 2] + second


def webp_valid_then_random() -> bytes:
    """40 valid bytes of a WebP, then random ones (the RIFF length still matches)."""
    data = photo(640, 480, "WEBP")
    return data[:40] + random.Random(18).randbytes(len(data) - 40)


def jpeg_frame_lies(width: int = 7000, height: int = 7000) -> bytes:
    """A 640x480 JPEG whose frame header (SOF) says `width` x `height`."""
    data = bytearray(photo(640, 480))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def jpeg_without_scan_data() -> bytes:
    """A JPEG's headers, its scan header, and the end-of-image marker straight after."""
    data = photo(640, 480)
    sos = data.index(b"\xff\xda")
    return data[: sos + 2 + int.from_bytes(data[sos + 2 : sos + 4], "big")] + b"\xff\xd9"


def jpeg_cut_with_end_marker() -> bytes:
    """Half a JPEG with an end-of-image marker put back (libjpeg pads the rest with grey)."""
    data = photo(640, 480)
    return data[: len(data) // 2] + b"\xff\xd9"


# The damaged files of issue 18, item 1: each one's header claims a picture its data lacks.
DAMAGED = {
    "png-1x1-claiming-4000x3000": lambda: png_claiming(4000, 3000),
    "png-cut-iend-in-text": png_cut_with_iend_in_text,
    "half-jpeg-then-whole": half_jpeg_then_whole,
    "webp-40-valid-bytes-then-random": webp_valid_then_random,
    "jpeg-frame-7000x7000-over-640x480": jpeg_frame_lies,
    "jpeg-625-bytes-no-scan-data": jpeg_without_scan_data,
    "jpeg-cut-with-end-marker": jpeg_cut_with_end_marker,
}


def jpeg_many_segments(count: int) -> bytes:
    """A small JPEG with `count` empty comment segments before its frame (issue 18, item 4)."""
    data = photo(64, 48)
    return data[:2] + b"\xff\xfe\x00\x02" * count + data[2:]


def jpeg_fill_bytes(count: int) -> bytes:
    """A small JPEG with `count` 0xFF fill bytes before its first marker after SOI."""
    data = photo(64, 48)
    return data[:2] + b"\xff" * count + data[2:]


def png_many_chunks(count: int) -> bytes:
    data = photo(32, 24, "PNG")
    return data[:33] + png_chunk(b"tEXt", b"a\x00b") * count + data[33:]


def gif_many_blocks(count: int) -> bytes:
    """A small GIF with a comment extension of `count` one-byte sub-blocks before its picture."""
    out = io.BytesIO()
    Image.new("P", (8, 8), 3).save(out, "GIF")
    data = out.getvalue()
    comment = b"\x21\xfe" + b"\x01x" * count + b"\x00"
    start = data.index(b"\x2c")  # the image descriptor, after the header and colour table
    return data[:start] + comment + data[start:]


def gif_screen(width: int, height: int) -> bytes:
    """A 1x1 GIF whose logical screen says `width` x `height`: a few dozen bytes that Pillow
    decodes to a width x height picture (issue 18, item 2)."""
    out = io.BytesIO()
    Image.new("P", (1, 1), 1).save(out, "GIF")
    data = bytearray(out.getvalue())
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)

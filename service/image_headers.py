"""Bounded walks over image headers, before Pillow parses them.

Pillow's header parsers are Python loops: one turn per JPEG segment (and per junk or fill byte
between segments), per PNG chunk, per GIF block. A 20 MB file of tiny segments kept a parse
busy for seconds, holding the GIL, and a parse in a thread cannot be cancelled. So each walk
here is capped in turns: past a cap the file fails at once with `HeaderTooComplex`. Real
files stay far below the caps (a camera JPEG has about 10 segments before its scan, a PNG a
few chunks plus one per 8-64 KB of pixel data). The walks are C-speed slicing and one
comparison per turn: a capped walk costs well under a millisecond.
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_JPEG_SEGMENTS = 1_000  # markers before the first scan
MAX_JPEG_FILL = 1_000  # 0xFF fill bytes before markers, in all
MAX_PNG_CHUNKS = 20_000  # a 20 MB PNG in 8 KB IDAT chunks has 2,560
MAX_GIF_BLOCKS = 4_096  # extension sub-blocks before the first picture

JPEG_SOI = b"\xff\xd8"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_SOS = 0xDA
_JPEG_STANDALONE = frozenset({0x01, 0xD8, *range(0xD0, 0xD8)})  # markers without a length
_JPEG_SOF = frozenset(
    {*range(0xC0, 0xC4), *range(0xC5, 0xC8), *range(0xC9, 0xCC), 0xCD, 0xCE, 0xCF}
)


class HeaderError(ValueError):
    """The header is malformed in a way the walk does not go past."""


class HeaderTooComplex(HeaderError):
    """The header needs more steps to walk than any real file does."""

    def __init__(self, what: str) -> None:
        super().__init__(f"header too complex ({what})")


@dataclass(frozen=True, slots=True)
class JpegLayout:
    """What the first scan of a JPEG needs: its frame and where its coded data starts."""

    sof: int  # the SOF marker's second byte: 0xC0 baseline, 0xC1 extended, 0xC2 progressive
    width: int
    height: int
    components: int  # in the frame
    scan_components: int  # in the first scan (fewer: a multi-scan file)
    scan_start: int  # offset of the first scan's coded data
    sampling: tuple[tuple[int, int], ...]  # (h, v) per component

    @property
    def single_scan_huffman(self) -> bool:
        """One interleaved Huffman-coded sequential scan: the common camera JPEG."""
        return self.sof in (0xC0, 0xC1) and self.scan_components == self.components


def jpeg_layout(data: bytes | bytearray) -> JpegLayout | None:
    """Walk the segments up to the first scan; None if the data ends first.

    Raises HeaderTooComplex past the caps, HeaderError for bytes that are not a segment."""
    position, segments, fill = 2, 0, 0
    sof: tuple[int, int, int, int, tuple[tuple[int, int], ...]] | None = None
    size = len(data)
    while position + 4 <= size:
        if data[position] != 0xFF:
            raise HeaderError("a JPEG segment does not start with a marker")
        marker = data[position + 1]
        if marker == 0xFF:  # fill byte before a marker
            fill += 1
            if fill > MAX_JPEG_FILL:
                raise HeaderTooComplex(f"more than {MAX_JPEG_FILL} JPEG fill bytes")
            position += 1
            continue
        segments += 1
        if segments > MAX_JPEG_SEGMENTS:
            raise HeaderTooComplex(f"more than {MAX_JPEG_SEGMENTS} JPEG segments before the image")
        if marker in _JPEG_STANDALONE:
            position += 2
            continue
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        if length < 2:
            raise HeaderError("a JPEG segment has a length below 2")
        body = data[position + 4 : position + 2 + length]
        if marker in _JPEG_SOF and sof is None and len(body) >= 6:
            count = body[5]
            sampling = tuple(
                (body[7 + 3 * i] >> 4, body[7 + 3 * i] & 15)
                for i in range(count)
                if 8 + 3 * i < len(body)
            )
            height = int.from_bytes(body[1:3], "big")
            width = int.from_bytes(body[3:5], "big")
            sof = (marker, width, height, count, sampling)
        if marker == _JPEG_SOS:
            if sof is None or not body:
                raise HeaderError("a JPEG scan starts before its frame header")
            kind, width, height, count, sampling = sof
            return JpegLayout(kind, width, height, count, body[0], position + 2 + length, sampling)
        position += 2 + length
    return None


def _png_walk(data: bytes | bytearray) -> None:
    position, chunks = len(PNG_SIGNATURE), 0
    while position + 8 <= len(data):
        chunks += 1
        if chunks > MAX_PNG_CHUNKS:
            raise HeaderTooComplex(f"more than {MAX_PNG_CHUNKS} PNG chunks")
        length = int.from_bytes(data[position : position + 4], "big")
        if data[position + 4 : position + 8] == b"IEND":
            return
        position += 12 + length


def _gif_walk(data: bytes | bytearray) -> None:
    if len(data) < 13:
        return
    position = 13
    flags = data[10]
    if flags & 0x80:  # global colour table
        position += 3 << ((flags & 7) + 1)
    blocks = 0
    while position < len(data):
        introducer = data[position]
        if introducer != 0x21:  # an image descriptor (0x2C), the trailer or junk: Pillow's
            return
        position += 2  # introducer and label
        while position < len(data):
            blocks += 1
            if blocks > MAX_GIF_BLOCKS:
                raise HeaderTooComplex(f"more than {MAX_GIF_BLOCKS} GIF blocks before the image")
            length = data[position]
            position += 1 + length
            if length == 0:
                break


def check_header(data: bytes | bytearray) -> None:
    """Walk the header of a JPEG, PNG or GIF within the caps (WebP's is parsed in C)."""
    if data[:2] == JPEG_SOI:
        jpeg_layout(data)
    elif data[:8] == PNG_SIGNATURE:
        _png_walk(data)
    elif data[:4] in (b"GIF8",):
        _gif_walk(data)

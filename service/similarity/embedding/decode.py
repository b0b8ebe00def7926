"""Stored image bytes to an embedder's views, one picture at a time.

A JPEG is decoded at reduced scale (DCT scaling: 1/2, 1/4, 1/8), the largest reduction that
keeps the shorter side at least what the embedder needs, so a 12-megapixel phone photo costs
a 1/8 decode. Other formats have no reduced decode: they are decoded whole, then reduced by
an integer factor at once. Either way a batch keeps only each picture's small views, never
the decoded pictures: at most one full-size picture is in memory at a time.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from PIL import Image

from service.imaging import format_of, open_image, pixel_budget, pixel_wait
from service.similarity.embedding.embedders import Embedder

Result = tuple[np.ndarray | None, str | None]  # (vector, None) or (None, why)


def _reduction(shorter: int, min_side: int, limit: int) -> int:
    """The largest factor in 1, 2, 4, ... `limit` that keeps `shorter / factor >= min_side`."""
    factor = 1
    while factor < limit and shorter // (factor * 2) >= min_side:
        factor *= 2
    return factor


def decode(data: bytes, max_pixels: int, min_side: int) -> Image.Image:
    """RGB, the shorter side reduced towards `min_side` (never below it, unless the picture
    is smaller to begin with). The decode holds its pixels from the process's pixel budget
    (`service.imaging`) until only the reduced copy is left."""
    with open_image(data, max_pixels) as image:
        jpeg = format_of(image) == "JPEG"
        if jpeg:
            factor = _reduction(min(image.size), min_side, 8)
            image.draft("RGB", (-(-image.width // factor), -(-image.height // factor)))
        with pixel_budget().reserve(image.width * image.height, pixel_wait()):
            rgb = image.convert("RGB")
            if jpeg:  # already at its DCT scale
                return rgb
            factor = _reduction(min(rgb.size), min_side, 1 << 30)
            return rgb.reduce(factor) if factor > 1 else rgb  # the full-size copy goes here


def embed_stored(
    embedder: Embedder,
    max_pixels: int,
    read: Callable[[str], bytes],
    keys: Sequence[str],
    fast: bool = False,
) -> list[Result]:
    """Read, decode and embed stored images in one batch: per key, (vector, None), or
    (None, why) for one that cannot be read, decoded or embedded. A batch the embedder
    refuses is retried an image at a time, so one bad image does not stop the others."""
    out: list[Result] = [(None, None)] * len(keys)
    prepared: dict[int, np.ndarray] = {}
    for index, key in enumerate(keys):
        try:
            image = decode(read(key), max_pixels, embedder.min_side(fast))
            prepared[index] = embedder.views(image, fast)
            del image  # only the views stay
        except Exception as exc:
            out[index] = (None, str(exc) or type(exc).__name__)
    if not prepared:
        return out
    try:
        vectors = list(embedder.embed_views(list(prepared.values())))
    except Exception:  # find the image the batch failed on; embed the others
        for index, views in prepared.items():
            try:
                out[index] = (embedder.embed_views([views])[0], None)
            except Exception as exc:
                out[index] = (None, str(exc) or type(exc).__name__)
        return out
    for index, vector in zip(prepared, vectors, strict=True):
        out[index] = (vector, None)
    return out


def embed_bytes(embedder: Embedder, max_pixels: int, data: bytes) -> np.ndarray:
    """One uploaded or stored image's vector; raises if it cannot be decoded."""
    image = decode(data, max_pixels, embedder.min_side())
    return embedder.embed_views([embedder.views(image)])[0]

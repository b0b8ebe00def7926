"""Framing: which square views of a picture the network looks at.

A catalog's reference image is a studio packshot: the pack alone on a near-uniform backdrop.
A store photo is a pack held or shelved in front of other packs, roughly in the middle. The
two are framed differently, and told apart by their border:

- **packshot** (a near-uniform border): the backdrop is trimmed away and the pack is padded
  to a square with the backdrop's colour, never squeezed: a tall carton stays tall, as it is
  in a photo. One view.
- **photo**: centred square crops at a few scales of the shorter side (1.0, 0.8, 0.6 by
  default). Their embeddings are averaged: the widest view keeps context, the tightest one
  sees the pack with little of its neighbours.

Padding instead of squeezing is the feasibility study's (reference-only top-1 0.22 -> 0.41 on
grocery photos); three crops instead of one took top-1 from 0.965 to 0.973 and P@10 from
0.914 to 0.942 on grocery-train, cross-validated (`scripts/ablate_recognition.py`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

PHOTO_CROPS = (1.0, 0.8, 0.6)
# A border pixel further than this from the border's median colour (max over channels) is
# not backdrop.
TOLERANCE = 24
UNIFORM_SHARE = 0.9  # of border pixels within TOLERANCE: the border is a backdrop
MIN_SIDE = 16  # smaller pictures are never trimmed


def find_pack(rgb: np.ndarray) -> tuple[np.ndarray, tuple[int, int, int, int]] | None:
    """For a packshot, (backdrop colour, (top, bottom, left, right) of the pack); None for a
    picture whose border is busy (a photo) or whose backdrop holds almost nothing."""
    h, w, _ = rgb.shape
    if h < MIN_SIDE or w < MIN_SIDE:
        return None
    a = rgb.astype(np.int16)
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    backdrop = np.median(border, axis=0).astype(np.int16)
    if np.mean(np.abs(border - backdrop).max(axis=1) < TOLERANCE) < UNIFORM_SHARE:
        return None
    foreground = np.abs(a - backdrop).max(axis=2) > TOLERANCE
    rows = np.flatnonzero(foreground.mean(axis=1) > 0.04)
    cols = np.flatnonzero(foreground.mean(axis=0) > 0.04)
    if rows.size < h // 8 or cols.size < w // 8:
        return None
    return backdrop.astype(np.uint8), (rows[0], rows[-1] + 1, cols[0], cols[-1] + 1)


def pad_square(rgb: np.ndarray, fill: np.ndarray) -> np.ndarray:
    """`rgb` centred on a square of colour `fill`."""
    h, w, _ = rgb.shape
    side = max(h, w)
    out = np.empty((side, side, 3), dtype=np.uint8)
    out[:] = fill
    top, left = (side - h) // 2, (side - w) // 2
    out[top : top + h, left : left + w] = rgb
    return out


def _resized(rgb: np.ndarray, side: int) -> np.ndarray:
    image = Image.fromarray(np.ascontiguousarray(rgb))
    return np.asarray(image.resize((side, side), Image.Resampling.BILINEAR), dtype=np.uint8)


def views(image: Image.Image, side: int, crops: Sequence[float] = PHOTO_CROPS) -> np.ndarray:
    """The views of `image` as uint8 (n, side, side, 3): one for a packshot, one per crop
    scale for a photo."""
    rgb = np.asarray(image if image.mode == "RGB" else image.convert("RGB"))
    pack = find_pack(rgb)
    if pack is not None:
        backdrop, (top, bottom, left, right) = pack
        return _resized(pad_square(rgb[top:bottom, left:right], backdrop), side)[None]
    h, w, _ = rgb.shape
    out = np.empty((len(crops), side, side, 3), dtype=np.uint8)
    for n, scale in enumerate(crops):
        size = max(1, round(min(h, w) * scale))
        top, left = (h - size) // 2, (w - size) // 2
        out[n] = _resized(rgb[top : top + size, left : left + size], side)
    return out


def needed_side(side: int, crops: Sequence[float] = PHOTO_CROPS) -> int:
    """The shorter side a decode must keep so that the tightest crop still has `side` pixels."""
    return int(np.ceil(side / min(crops)))

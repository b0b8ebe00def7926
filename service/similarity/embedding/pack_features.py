"""The default embedding: hand-made image features for product packs, numpy and Pillow only.

A pack photographed on a shelf and the same pack's studio reference image should land close,
and two packs of one brand that differ in a flavour band or an emblem should not. So:

1. Frame the pack: crop a near-uniform border away (studio backgrounds), then keep the central
   80%, where a shelf crop shows the pack rather than its neighbours and the rails.
2. Undo exposure and some of a colour cast: scale intensities so that the brightest few
   percent sit at one level, each channel a little on its own (a clipped white patch).
3. Describe it with four blocks, each normalised to unit length and then weighted:
   - a global colour histogram in HSV (hue x saturation x value, soft hue bins, and grey
     levels for unsaturated pixels): which colours, whatever the layout;
   - the same histogram per quadrant: where the colours are;
   - an 8x8 image in opponent colour space (red-green, yellow-blue, zero-mean intensity): the
     coarse layout, which is what tells a band of one colour from a band of another;
   - gradient-orientation histograms (HOG-like) on a 4x4 grid: shapes, lettering, edges.
   Histograms are square-rooted (Hellinger), so a dominant colour does not drown the rest.

Everything is deterministic; about 1 ms per image once decoded (see scripts/bench_similarity).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

WORK = 128  # longest side of the working copy, before framing
SIDE = 64  # the framed pack is resampled to SIDE x SIDE
INSET = 0.10  # fraction cut from each side after trimming
WHITE_BALANCE = 0.10  # how far a channel's gain may stray from the exposure gain
HUE_BINS = 12
GRID_COLOUR = 2  # quadrants
GRID_HOG = 4
HOG_BINS = 8
TINY = 8
# Block weights, tuned on look-alike packs (tests/similarity/lookalikes.py) and trax-sample.
WEIGHTS = {"colour": 1.0, "colour_grid": 0.8, "layout": 1.0, "gradients": 0.7}

_COLOUR_BINS = HUE_BINS * 4 + 4
DIMENSION = (
    _COLOUR_BINS
    + GRID_COLOUR * GRID_COLOUR * _COLOUR_BINS
    + TINY * TINY * 3
    + GRID_HOG * GRID_HOG * HOG_BINS
)


def _unit(v: np.ndarray) -> np.ndarray:
    norm = float(np.linalg.norm(v))
    return v / norm if norm > 1e-12 else v


def working_copy(image: Image.Image) -> Image.Image:
    """RGB, longest side at most WORK pixels (a cheap box reduction first for big photos)."""
    if image.mode != "RGB":
        image = image.convert("RGB")
    scale = WORK / max(image.size)
    if scale < 1:
        size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
        image = image.resize(size, Image.Resampling.BOX)
    return image


def trim_border(rgb: np.ndarray, tolerance: float = 24.0) -> np.ndarray:
    """Crop a near-uniform border (a studio backdrop); a busy border (a shelf) is kept."""
    h, w, _ = rgb.shape
    if h < 16 or w < 16:
        return rgb
    a = rgb.astype(np.int16)
    border = np.concatenate([a[0], a[-1], a[:, 0], a[:, -1]])
    backdrop = np.median(border, axis=0).astype(np.int16)
    if np.mean(np.abs(border - backdrop).max(axis=1) < tolerance) < 0.9:
        return rgb
    foreground = np.abs(a - backdrop).max(axis=2) > tolerance
    rows = np.flatnonzero(foreground.mean(axis=1) > 0.04)
    cols = np.flatnonzero(foreground.mean(axis=0) > 0.04)
    if rows.size < h // 8 or cols.size < w // 8:
        return rgb  # almost nothing on the backdrop: keep the whole picture
    return rgb[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]


def frame(image: Image.Image) -> np.ndarray:
    """The pack as SIDE x SIDE x 3 uint8, trimmed, inset and exposure-normalised."""
    rgb = trim_border(np.asarray(working_copy(image)))
    h, w, _ = rgb.shape
    dy, dx = int(h * INSET), int(w * INSET)
    rgb = rgb[dy : h - dy or h, dx : w - dx or w]
    framed = Image.fromarray(np.ascontiguousarray(rgb)).resize(
        (SIDE, SIDE), Image.Resampling.BILINEAR
    )
    a = np.asarray(framed, dtype=np.float32)
    # Exposure: the brightest few percent to one level. White balance: each channel's own
    # bright end to that level too (a white patch), but only within +-10% of the exposure
    # gain, so a pack with no white on it keeps its colour.
    gain = 235.0 / (float(np.percentile(a.max(axis=2), 97)) + 1.0)
    per_channel = 235.0 / (np.percentile(a.reshape(-1, 3), 97, axis=0) + 1.0)
    gains = np.clip(per_channel, gain * (1 - WHITE_BALANCE), gain * (1 + WHITE_BALANCE))
    return np.clip(a * gains.astype(np.float32), 0, 255).astype(np.uint8)


def _cells(n: int, grid: int) -> np.ndarray:
    """Cell index of each pixel of an n x n image cut into grid x grid cells."""
    band = np.arange(n) * grid // n
    return (band[:, None] * grid + band[None, :]).ravel()


_CELLS_COLOUR = _cells(SIDE, GRID_COLOUR)
_CELLS_HOG = _cells(SIDE, GRID_HOG)


def colour_histograms(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Global and per-quadrant HSV histograms (square-rooted, each summing to 1 before)."""
    hsv = np.asarray(Image.fromarray(rgb).convert("HSV"), dtype=np.float32).reshape(-1, 3) / 255
    h, s, v = hsv[:, 0], hsv[:, 1], hsv[:, 2]
    chromatic = s * v > 0.12  # below this, hue is noise: count the pixel as a grey level
    position = h * HUE_BINS
    low = np.floor(position)
    frac = position - low
    h0 = low.astype(np.int64) % HUE_BINS
    h1 = (h0 + 1) % HUE_BINS
    tone = np.minimum((s * 2).astype(np.int64), 1) * 2 + np.minimum((v * 2).astype(np.int64), 1)
    grey = HUE_BINS * 4 + np.minimum((v * 4).astype(np.int64), 3)
    bin0 = np.where(chromatic, h0 * 4 + tone, grey)
    bin1 = np.where(chromatic, h1 * 4 + tone, grey)
    w1 = np.where(chromatic, frac, 0.0)
    cells = GRID_COLOUR * GRID_COLOUR
    index = np.concatenate(
        [_CELLS_COLOUR * _COLOUR_BINS + bin0, _CELLS_COLOUR * _COLOUR_BINS + bin1]
    )
    weight = np.concatenate([1.0 - w1, w1])
    grid = np.bincount(index, weight, minlength=cells * _COLOUR_BINS).reshape(cells, _COLOUR_BINS)
    whole = grid.sum(axis=0)
    grid = np.sqrt(grid / np.maximum(grid.sum(axis=1, keepdims=True), 1e-9))
    return np.sqrt(whole / max(whole.sum(), 1e-9)), grid.ravel()


def opponent_layout(rgb: np.ndarray) -> np.ndarray:
    """TINY x TINY image in opponent colours; intensity zero-mean, unit-variance."""
    block = SIDE // TINY
    tiny = rgb.astype(np.float32).reshape(TINY, block, TINY, block, 3).mean(axis=(1, 3)) / 255
    r, g, b = tiny[..., 0], tiny[..., 1], tiny[..., 2]
    red_green = (r - g) / np.sqrt(2)
    yellow_blue = (r + g - 2 * b) / np.sqrt(6)
    intensity = (r + g + b) / np.sqrt(3)
    intensity = (intensity - intensity.mean()) / (intensity.std() + 0.05)
    # chroma is small next to a standardised intensity; x3 puts them on a par
    return np.concatenate([3 * red_green.ravel(), 3 * yellow_blue.ravel(), intensity.ravel()])


def gradient_histograms(rgb: np.ndarray) -> np.ndarray:
    """Unsigned gradient orientations, magnitude-weighted, soft-binned, per grid cell."""
    grey = rgb.astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
    gx = np.zeros_like(grey)
    gy = np.zeros_like(grey)
    gx[:, 1:-1] = grey[:, 2:] - grey[:, :-2]
    gy[1:-1, :] = grey[2:, :] - grey[:-2, :]
    magnitude = np.hypot(gx, gy).ravel()
    position = (np.mod(np.arctan2(gy, gx), np.pi) / np.pi * HOG_BINS).ravel()
    low = np.floor(position)
    frac = position - low
    b0 = low.astype(np.int64) % HOG_BINS
    b1 = (b0 + 1) % HOG_BINS
    index = np.concatenate([_CELLS_HOG * HOG_BINS + b0, _CELLS_HOG * HOG_BINS + b1])
    weight = np.concatenate([magnitude * (1 - frac), magnitude * frac])
    cells = np.bincount(index, weight, minlength=GRID_HOG * GRID_HOG * HOG_BINS)
    return np.sqrt(cells)


def features(image: Image.Image) -> np.ndarray:
    """The unit-length float32 feature vector of one image (DIMENSION values)."""
    return describe(frame(image))


def describe(rgb: np.ndarray) -> np.ndarray:
    """The feature vector of a framed pack (`frame`'s SIDE x SIDE x 3 uint8)."""
    colour, colour_grid = colour_histograms(rgb)
    blocks = [
        (colour, WEIGHTS["colour"]),
        (colour_grid, WEIGHTS["colour_grid"]),
        (opponent_layout(rgb), WEIGHTS["layout"]),
        (gradient_histograms(rgb), WEIGHTS["gradients"]),
    ]
    vector = np.concatenate([_unit(block.astype(np.float64)) * weight for block, weight in blocks])
    return _unit(vector).astype(np.float32)

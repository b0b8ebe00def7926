"""Realistic photos for the job benchmarks (served by `scripts.harness.image_server`).

- `photos(directory, prefix, count, size)`: distinct JPEGs (quality 85) cut from one large
  photo-like field (smooth colour regions plus sensor-like noise), so 640x480 files weigh
  about 45 KB and 4032x3024 phone photos about 2-3 MB, like the real thing. Made once and
  kept under `var/bench-images/` (a few seconds for 2,000 small ones, under a minute for 200
  phone photos on 2 cores).
"""

from __future__ import annotations

import io
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

from scripts.processes import ROOT

CACHE = ROOT / "var" / "bench-images"
VERSION = "v1"  # bump when the recipe below changes
MARGIN = 256  # crop offsets: every image is a different window of the field


def _field(width: int, height: int, noise: float, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    cells = rng.integers(0, 256, (height // 32 + 2, width // 32 + 2, 3), dtype=np.uint8)
    smooth = np.asarray(Image.fromarray(cells).resize((width, height), Image.BICUBIC))
    grain = rng.normal(0.0, noise, smooth.shape).astype(np.float32)
    return np.clip(smooth + grain, 0, 255).astype(np.uint8)


def photos(name: str, count: int, size: tuple[int, int], noise: float) -> list[Path]:
    """`count` distinct JPEGs of `size`, cached under var/bench-images/<version>-<name>/."""
    directory = CACHE / f"{VERSION}-{name}"
    paths = [directory / f"{n}.jpg" for n in range(count)]
    if all(path.is_file() for path in paths):
        return paths
    directory.mkdir(parents=True, exist_ok=True)
    width, height = size
    field = _field(width + MARGIN, height + MARGIN, noise, seed=len(name))

    def write(n: int) -> None:
        dx, dy = (n * 7) % MARGIN, (n * 13 + n // MARGIN) % MARGIN
        window = field[dy : dy + height, dx : dx + width].copy()
        window[:8, :8] = (n % 256, (n // 256) % 256, 0)  # distinct even where windows repeat
        out = io.BytesIO()
        Image.fromarray(window).save(out, "JPEG", quality=85)
        paths[n].write_bytes(out.getvalue())

    print(f"[bench] making {count} {width}x{height} JPEGs in {directory}", file=sys.stderr)
    with ThreadPoolExecutor(2) as pool:  # Pillow releases the GIL while encoding
        list(pool.map(write, range(count)))
    return paths

"""Embedders: images in, unit-length float32 vectors out. Chosen by `EMBEDDER`.

`default` is the pack-features embedder (numpy and Pillow, deterministic, offline).
`onnx:NAME` runs `MODEL_DIR/NAME.onnx` (built by `make model`) with onnxruntime, and
`combined:NAME` concatenates both, weighted. Every embedder has a name, a version and a
dimension; `model` ("name:version") is what rows store, so vectors of different models are
never compared and `reembed` can replace one by another.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from service.imaging import open_image, pixel_budget, pixel_wait
from service.similarity import features
from service.similarity.learned import ModelError, OnnxEmbedder


class EmbedderError(ValueError):
    """The configured embedder cannot be used (unknown name, missing runtime)."""


class Embedder(Protocol):
    name: str
    version: str
    dimension: int
    work_size: int  # the longest image side worth decoding for it (JPEG DCT scaling)

    @property
    def model(self) -> str: ...

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        """float32 array (len(images), dimension), each row of unit length. CPU-bound: call it
        off the event loop."""
        ...


class PackFeatures:
    """Colour, layout and gradient features of a product pack (see `features`)."""

    name = "pack-features"
    version = "1"
    dimension = features.DIMENSION
    work_size = features.WORK

    @property
    def model(self) -> str:
        return f"{self.name}:{self.version}"

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        out = np.empty((len(images), self.dimension), dtype=np.float32)
        for row, image in enumerate(images):
            out[row] = features.features(image)
        return out


class Combined:
    """Hand-made and learned features side by side: each part unit-length, times its weight,
    then the whole normalised, so the dot product is a weighted mean of the two cosines."""

    def __init__(self, parts: Sequence[tuple[Embedder, float]]) -> None:
        self.parts = list(parts)
        self.name = "+".join(part.name for part, _ in self.parts)
        weights = ",".join(f"{weight:g}" for _, weight in self.parts)
        self.version = "-".join(part.version for part, _ in self.parts) + f"-w{weights}"
        self.dimension = sum(part.dimension for part, _ in self.parts)
        self.work_size = max(part.work_size for part, _ in self.parts)

    @property
    def model(self) -> str:
        return f"{self.name}:{self.version}"

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        blocks = [part.embed(images) * np.float32(np.sqrt(w)) for part, w in self.parts]
        out = np.concatenate(blocks, axis=1)
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)


# combined:NAME weights (shares of the cosine): pack features, learned. Measured on the demo
# catalog and trax-sample (README, "Similarity quality"): a learned share over 0.2 costs
# reference-only top-1 and P@10 on the demo (0.5: 0.932 and 0.912, against 0.985 and 0.944).
COMBINED_WEIGHTS = (0.8, 0.2)


def create_embedder(spec: str, model_dir: Path | str = "var/models") -> Embedder:
    """The embedder an `EMBEDDER` value names: `default` (= `pack-features`), `onnx:NAME`
    (MODEL_DIR/NAME.onnx) or `combined:NAME` (both, weighted)."""
    if spec in {"default", PackFeatures.name}:
        return PackFeatures()
    kind, _, name = spec.partition(":")
    if kind in {"onnx", "combined"} and name:
        try:
            learned = OnnxEmbedder(Path(model_dir), name)
        except ModelError as exc:
            raise EmbedderError(f"EMBEDDER={spec}: {exc}") from exc
        if kind == "onnx":
            return learned
        pack, learned_weight = COMBINED_WEIGHTS
        return Combined([(PackFeatures(), pack), (learned, learned_weight)])
    raise EmbedderError(f"unknown EMBEDDER {spec!r}; use 'default', 'onnx:NAME' or 'combined:NAME'")


def decode(data: bytes, max_pixels: int, work_size: int = features.WORK) -> Image.Image:
    """Decode image bytes for embedding, straight to about `work_size` (the longest side an
    embedder looks at): JPEGs at reduced scale (DCT scaling), other formats decoded and then
    reduced at once, so what is returned, and kept for a batch, is small. The decode holds
    its pixels from the process's pixel budget (`service.imaging`)."""
    with open_image(data, max_pixels) as image:
        if image.format == "JPEG":
            # the largest DCT reduction (1/2, 1/4, 1/8) that keeps the longer side >= WORK
            scale = 1
            while scale < 8 and max(image.size) // (scale * 2) >= work_size:
                scale *= 2
            image.draft("RGB", (-(-image.width // scale), -(-image.height // scale)))
        with pixel_budget().reserve(image.width * image.height, pixel_wait()):
            rgb = image.convert("RGB")
            factor = max(1, max(rgb.size) // work_size)  # keeps the longer side >= WORK
            if image.format == "JPEG" or factor == 1:  # (a JPEG is at its DCT scale already)
                return rgb
            return rgb.reduce(factor)  # the full-size copy goes as this returns


def embed_stored(
    embedder: Embedder, max_pixels: int, read: Callable[[str], bytes], keys: Sequence[str]
) -> list[tuple[np.ndarray | None, str | None]]:
    """Read, decode and embed stored images in one batch: per key, (vector, None), or
    (None, why) for one that cannot be read, decoded or embedded. A batch the embedder
    refuses is retried an image at a time, so one bad image does not stop the others."""
    out: list[tuple[np.ndarray | None, str | None]] = [(None, None)] * len(keys)
    decoded: dict[int, Image.Image] = {}
    for index, key in enumerate(keys):
        try:
            decoded[index] = decode(read(key), max_pixels, embedder.work_size)
        except Exception as exc:
            out[index] = (None, str(exc))
    if not decoded:
        return out
    try:
        vectors = list(embedder.embed(list(decoded.values())))
    except Exception:  # find the image the batch failed on; embed the others
        for index, image in decoded.items():
            try:
                out[index] = (embedder.embed([image])[0], None)
            except Exception as exc:
                out[index] = (None, str(exc))
        return out
    for index, vector in zip(decoded, vectors, strict=True):
        out[index] = (vector, None)
    return out

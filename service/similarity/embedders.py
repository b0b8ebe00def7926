"""Embedders: images in, unit-length float32 vectors out. Chosen by `EMBEDDER`.

`default` is the pack-features embedder (numpy and Pillow, deterministic, offline). Every
embedder has a name, a version and a dimension; `model` ("name:version") is what rows store,
so vectors of different models are never compared and `reembed` can replace one by another.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
from PIL import Image

from service.imaging import open_image
from service.similarity import features


class EmbedderError(ValueError):
    """The configured embedder cannot be used (unknown name, missing runtime)."""


class Embedder(Protocol):
    name: str
    version: str
    dimension: int

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

    @property
    def model(self) -> str:
        return f"{self.name}:{self.version}"

    def embed(self, images: Sequence[Image.Image]) -> np.ndarray:
        out = np.empty((len(images), self.dimension), dtype=np.float32)
        for row, image in enumerate(images):
            out[row] = features.features(image)
        return out


def create_embedder(spec: str) -> Embedder:
    """The embedder an `EMBEDDER` value names."""
    if spec in {"default", PackFeatures.name}:
        return PackFeatures()
    if spec.startswith("onnx:"):
        raise EmbedderError(
            "EMBEDDER=onnx:PATH needs the optional onnxruntime package, which this "
            "installation does not have; use EMBEDDER=default"
        )
    raise EmbedderError(f"unknown EMBEDDER {spec!r}; use 'default'")


def decode(data: bytes, max_pixels: int) -> Image.Image:
    """Decode image bytes for embedding. JPEGs are decoded at reduced scale (DCT scaling),
    since the features only look at a small copy."""
    with open_image(data, max_pixels) as image:
        if image.format == "JPEG":
            # the largest DCT reduction (1/2, 1/4, 1/8) that keeps the longer side >= WORK
            scale = 1
            while scale < 8 and max(image.size) // (scale * 2) >= features.WORK:
                scale *= 2
            image.draft("RGB", (-(-image.width // scale), -(-image.height // scale)))
        return image.convert("RGB")

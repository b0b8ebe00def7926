"""Embedders: images in, unit-length float32 vectors out. Chosen by `EMBEDDER`.

`default` is recognition with EfficientNet-Lite0 (`onnx:efficientnet-lite0`): the network
`make model` builds, run on the views `framing` chooses, one vector per image (the mean of its
views' unit vectors, made unit again). `onnx:NAME` is the same with another network in
MODEL_DIR. `pack-features` is the old hand-made colour and gradient embedder (numpy only).

Every embedder has a name, a version and a dimension; `model` ("name:version") is what rows
store, so vectors of different models are never compared and `reembed` can replace one by
another. These are the raw vectors: what queries compare is their projection (`projection`).

An embedder works in two steps so that a batch never holds more than one decoded picture:
`views(image)` makes the small arrays it needs (the picture can go at once), and
`embed_views` turns a batch of them into vectors.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from service.similarity.embedding import framing, pack_features
from service.similarity.embedding.backbone import Backbone, ModelError

DEFAULT_NETWORK = "efficientnet-lite0"
# Bump when views or pooling change: the version in `model` is "NETWORK_VERSION.RECIPE".
RECIPE = "1"
FAST_CROPS = (1.0,)  # `fast`: one view, for store-visit images (README, "Recognition")


class EmbedderError(ValueError):
    """The configured embedder cannot be used (unknown name, model not built)."""


class Embedder(Protocol):
    name: str
    version: str
    dimension: int

    @property
    def model(self) -> str: ...

    def min_side(self, fast: bool = False) -> int:
        """The shorter side a decode must keep (JPEG DCT scaling goes no further)."""
        ...

    def views(self, image: Image.Image, fast: bool = False) -> np.ndarray:
        """What `embed_views` needs of one picture: small uint8 arrays (views, ...)."""
        ...

    def embed_views(self, views: Sequence[np.ndarray]) -> np.ndarray:
        """float32 (len(views), dimension), unit rows, from each picture's `views`.
        CPU-bound: call it off the event loop."""
        ...


def embed(embedder: Embedder, images: Sequence[Image.Image], fast: bool = False) -> np.ndarray:
    """Vectors of decoded pictures (tests, benchmarks, one-off uploads)."""
    return embedder.embed_views([embedder.views(image, fast) for image in images])


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


class Recognition:
    """A network's features over `framing`'s views, pooled per picture."""

    def __init__(self, backbone: Backbone, crops: Sequence[float] | None = None) -> None:
        self.backbone = backbone
        self.crops = tuple(crops or framing.PHOTO_CROPS)
        self.name = backbone.name
        self.version = f"{backbone.version}.{RECIPE}"
        self.dimension = backbone.dimension

    @property
    def model(self) -> str:
        return f"{self.name}:{self.version}"

    def min_side(self, fast: bool = False) -> int:
        return framing.needed_side(self.backbone.side, FAST_CROPS if fast else self.crops)

    def views(self, image: Image.Image, fast: bool = False) -> np.ndarray:
        return framing.views(image, self.backbone.side, FAST_CROPS if fast else self.crops)

    def embed_views(self, views: Sequence[np.ndarray]) -> np.ndarray:
        out = np.empty((len(views), self.dimension), dtype=np.float32)
        if not views:
            return out
        counts = [len(v) for v in views]
        features = _unit(self.backbone.run(np.concatenate(views)))
        start = 0
        for row, count in enumerate(counts):
            out[row] = features[start : start + count].mean(axis=0)
            start += count
        return _unit(out)


class PackFeatures:
    """Colour, layout and gradient features of a product pack (see `pack_features`)."""

    name = "pack-features"
    version = "1"
    dimension = pack_features.DIMENSION

    @property
    def model(self) -> str:
        return f"{self.name}:{self.version}"

    def min_side(self, fast: bool = False) -> int:
        return pack_features.WORK

    def views(self, image: Image.Image, fast: bool = False) -> np.ndarray:
        return pack_features.frame(image)[None]

    def embed_views(self, views: Sequence[np.ndarray]) -> np.ndarray:
        out = np.empty((len(views), self.dimension), dtype=np.float32)
        for row, framed in enumerate(views):
            out[row] = pack_features.describe(framed[0])
        return out


def create_embedder(spec: str, model_dir: Path | str = "var/models", load: bool = True) -> Embedder:
    """The embedder an `EMBEDDER` value names: `default` (= `onnx:efficientnet-lite0`),
    `onnx:NAME` (MODEL_DIR/NAME.onnx) or `pack-features`. `load=False` checks the model's
    manifest and checksum now and loads the network at its first use."""
    if spec == PackFeatures.name:
        return PackFeatures()
    if spec == "default":
        spec = f"onnx:{DEFAULT_NETWORK}"
    kind, _, name = spec.partition(":")
    if kind == "onnx" and name:
        try:
            return Recognition(Backbone(Path(model_dir), name, load=load))
        except ModelError as exc:
            raise EmbedderError(f"EMBEDDER={spec}: {exc}") from exc
    raise EmbedderError(f"unknown EMBEDDER {spec!r}; use 'default', 'onnx:NAME' or 'pack-features'")

"""The default embedder: shape, determinism, and the invariances the features are built for."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from service.similarity.embedding import pack_features as features
from service.similarity.embedding.embedders import (
    EmbedderError,
    PackFeatures,
    create_embedder,
    decode,
)
from tests.similarity import lookalikes


@pytest.fixture(scope="module")
def packs() -> list[lookalikes.Pack]:
    return lookalikes.catalog(families=2, variants=3)


def embed(image: Image.Image) -> np.ndarray:
    return PackFeatures().embed([image])[0]


def test_vectors_are_unit_length_deterministic_float32(packs) -> None:
    images = [lookalikes.reference_image(p) for p in packs]
    first = PackFeatures().embed(images)
    again = PackFeatures().embed(images)
    assert first.dtype == np.float32
    assert first.shape == (len(images), features.DIMENSION)
    np.testing.assert_allclose(np.linalg.norm(first, axis=1), 1.0, rtol=1e-5)
    assert np.array_equal(first, again)


def test_studio_backdrop_is_trimmed_but_a_busy_border_is_kept(packs) -> None:
    pack = lookalikes.render(packs[0])
    on_white = lookalikes.reference_image(packs[0])  # the same pack with wide white margins
    assert float(embed(pack) @ embed(on_white)) > 0.97
    busy = np.asarray(lookalikes.snapshot_image(packs[0], random.Random(1), packs))
    assert features.trim_border(busy).shape == busy.shape


def test_exposure_and_a_mild_colour_cast_barely_move_the_vector(packs) -> None:
    pack = lookalikes.render(packs[0])
    dark = ImageEnhance.Brightness(pack).enhance(0.7)
    r, g, b = pack.split()
    cast = Image.merge("RGB", (r.point(lambda v: int(v * 0.93)), g, b))
    other = lookalikes.render(packs[1])  # same family: differs in band colour or emblem
    base = embed(pack)
    assert float(base @ embed(dark)) > 0.98
    assert float(base @ embed(cast)) > 0.98
    assert float(base @ embed(other)) < float(base @ embed(dark)) - 0.05


def test_decode_makes_a_reduced_jpeg_that_embeds_like_the_full_one(packs) -> None:
    big = lookalikes.reference_image(packs[0]).resize((1200, 1200))
    buffer = io.BytesIO()
    big.save(buffer, "JPEG", quality=92)
    decoded = decode(buffer.getvalue(), max_pixels=10_000_000)
    assert max(decoded.size) < 1200  # DCT-scaled on decode
    assert float(embed(decoded) @ embed(big)) > 0.99
    with pytest.raises(ValueError):
        decode(buffer.getvalue(), max_pixels=1000)


def test_embedder_is_chosen_by_name() -> None:
    assert create_embedder("default").model == "pack-features:1"
    assert create_embedder("pack-features").dimension == features.DIMENSION
    with pytest.raises(EmbedderError, match="make model"):
        create_embedder("onnx:effnet", model_dir="/nonexistent")
    with pytest.raises(EmbedderError, match="unknown"):
        create_embedder("clip")


@pytest.mark.parametrize(
    ("mode", "size"), [("RGB", (1, 1)), ("RGB", (8, 8)), ("L", (40, 30)), ("RGBA", (3, 500))]
)
def test_degenerate_images_still_embed(mode: str, size: tuple[int, int]) -> None:
    vector = embed(Image.new(mode, size))
    assert np.isfinite(vector).all() and np.linalg.norm(vector) == pytest.approx(1.0, rel=1e-5)

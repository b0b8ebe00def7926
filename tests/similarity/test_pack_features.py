"""The pack-features embedder (EMBEDDER=pack-features): shape, determinism, and the
invariances the features are built for."""

from __future__ import annotations

import io
import random

import numpy as np
import pytest
from PIL import Image, ImageEnhance

from service.similarity.embedding import pack_features as features
from service.similarity.embedding.decode import decode
from service.similarity.embedding.embedders import (
    EmbedderError,
    PackFeatures,
    create_embedder,
)
from service.similarity.embedding.embedders import embed as embed_all
from tests.similarity import lookalikes


@pytest.fixture(scope="module")
def packs() -> list[lookalikes.Pack]:
    return lookalikes.catalog(families=2, variants=3)


def embed(image: Image.Image) -> np.ndarray:
    return embed_all(PackFeatures(), [image])[0]


def test_vectors_are_unit_length_deterministic_float32(packs) -> None:
    images = [lookalikes.reference_image(p) for p in packs]
    first = embed_all(PackFeatures(), images)
    again = embed_all(PackFeatures(), images)
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
    decoded = decode(buffer.getvalue(), max_pixels=10_000_000, min_side=features.WORK)
    assert max(decoded.size) < 1200  # DCT-scaled on decode
    assert float(embed(decoded) @ embed(big)) > 0.99
    with pytest.raises(ValueError):
        decode(buffer.getvalue(), max_pixels=1000, min_side=features.WORK)


def test_embedder_is_chosen_by_name() -> None:
    assert create_embedder("pack-features").model == "pack-features:1"
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


def test_look_alike_packs_are_told_apart() -> None:
    packs = lookalikes.catalog(families=8, variants=4, seed=99)
    embedder = PackFeatures()
    references = embed_all(embedder, [lookalikes.reference_image(p) for p in packs])
    shots = lookalikes.snapshots(packs, per_pack=4, seed=5)
    photos = embed_all(embedder, [image for _, image in shots])
    truth = np.array([upc for upc, _ in shots])
    upcs = np.array([p.upc for p in packs])
    reference_rate = np.mean(upcs[np.argmax(photos @ references.T, axis=1)] == truth)
    among_photos = photos @ photos.T
    np.fill_diagonal(among_photos, -np.inf)
    photo_rate = np.mean(truth[np.argmax(among_photos, axis=1)] == truth)
    assert reference_rate >= 0.93
    assert photo_rate >= 0.90

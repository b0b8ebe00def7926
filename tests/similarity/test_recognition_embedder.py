"""The recognition embedder's framing, pooling and loading, on the tiny mean-colour network
(`tiny_model`), so every vector can be worked out by hand."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from service.__main__ import main
from service.similarity.embedding import backbone, framing
from service.similarity.embedding.decode import decode, embed_stored
from service.similarity.embedding.embedders import (
    EmbedderError,
    PackFeatures,
    Recognition,
    create_embedder,
    embed,
)
from tests.similarity.tiny_model import SIDE, write_tiny_model


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    write_tiny_model(folder)
    return folder


def unit(v) -> np.ndarray:  # type: ignore[no-untyped-def]
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def solid(colour: tuple[int, int, int], size: tuple[int, int] = (30, 20)) -> Image.Image:
    return Image.new("RGB", size, colour)


def busy(size: int, seed: int = 0) -> np.ndarray:
    """A picture with a noisy border: a photo to `framing`, never a packshot."""
    return np.random.default_rng(seed).integers(0, 256, (size, size, 3), dtype=np.uint8)


def test_a_built_network_loads_with_its_name_version_and_working_side(model_dir: Path) -> None:
    embedder = create_embedder("onnx:tiny", model_dir)
    assert isinstance(embedder, Recognition)
    assert embedder.model == "tiny:7.1"  # the network's version, then the framing recipe's
    assert embedder.dimension == 3 and embedder.backbone.side == SIDE
    # the tightest crop (0.6 of the shorter side) must still have SIDE pixels
    assert embedder.min_side() == 14 and embedder.min_side(fast=True) == SIDE


def test_a_packshot_is_trimmed_and_padded_to_a_square_not_squeezed(model_dir: Path) -> None:
    on_white = Image.new("RGB", (200, 200), (255, 255, 255))
    on_white.paste(solid((0, 150, 0), (40, 80)), (80, 60))  # a tall green pack
    views = framing.views(on_white, 80)
    assert views.shape == (1, 80, 80, 3)  # one view
    # the pack keeps its shape: half the square's width is pack, the rest backdrop
    assert (views[0, 40, 20:60] == [0, 150, 0]).all() and (views[0, 40, :18] == 255).all()
    vector = embed(create_embedder("onnx:tiny", model_dir), [on_white])[0]
    np.testing.assert_allclose(vector, unit([127.5, 202.5, 127.5]), atol=2e-3)


def test_a_photo_is_three_centred_crops_averaged(model_dir: Path) -> None:
    rgb = busy(100)
    rgb[20:80, 20:80] = (200, 0, 0)  # the 0.6 crop sees only red
    views = framing.views(Image.fromarray(rgb), SIDE)
    assert views.shape == (3, SIDE, SIDE, 3)
    embedder = create_embedder("onnx:tiny", model_dir)
    expected = sum(unit(v.reshape(-1, 3).astype(np.float64).mean(axis=0)) for v in views)
    np.testing.assert_allclose(embedder.embed_views([views])[0], unit(expected), atol=1e-5)
    np.testing.assert_allclose(views[2].reshape(-1, 3).mean(axis=0), [200, 0, 0], atol=1)
    # `fast` (store-visit images): the widest crop alone
    assert embedder.views(Image.fromarray(rgb), fast=True).shape == (1, SIDE, SIDE, 3)


def test_vectors_are_unit_float32_and_batches_give_what_single_pictures_give(
    model_dir: Path,
) -> None:
    embedder = create_embedder("onnx:tiny", model_dir)
    pictures = [Image.fromarray(busy(20 + n % 7, seed=n)) for n in range(backbone.BATCH + 5)]
    together = embed(embedder, pictures)
    one_by_one = np.stack([embed(embedder, [p])[0] for p in pictures])
    assert together.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(together, one_by_one, atol=1e-6)
    assert embedder.embed_views([]).shape == (0, 3)


def test_a_missing_network_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="make model"):
        create_embedder("default", tmp_path)


def test_a_network_that_does_not_match_its_checksum_is_refused(model_dir: Path) -> None:
    with (model_dir / "tiny.onnx").open("ab") as f:
        f.write(b"\0")
    with pytest.raises(EmbedderError, match="checksum"):
        create_embedder("onnx:tiny", model_dir)


@pytest.mark.parametrize("spec", ["onnx:../tiny", "onnx:", "onnx:Tiny", "clip", "combined:tiny"])
def test_bad_embedder_names_are_refused(model_dir: Path, spec: str) -> None:
    with pytest.raises(EmbedderError):
        create_embedder(spec, model_dir)


def test_a_graph_that_does_not_take_images_is_refused(tmp_path: Path) -> None:
    graph = helper.make_graph(
        [helper.make_node("Identity", ["x"], ["y"])],
        "not-images",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["n", 3])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["n", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "flat.onnx"
    onnx.save(model, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (tmp_path / "flat.json").write_text(json.dumps({"version": "1", "sha256": digest}))
    with pytest.raises(EmbedderError, match=r"needs one input \(N, 3, H, W\)"):
        create_embedder("onnx:flat", tmp_path)


def test_jpegs_are_decoded_just_large_enough_for_the_embedder() -> None:
    buffer = io.BytesIO()
    solid((10, 200, 10), (1600, 1200)).save(buffer, "JPEG")
    assert decode(buffer.getvalue(), 10**7, min_side=374).size == (800, 600)  # 1/2
    assert decode(buffer.getvalue(), 10**7, min_side=150).size == (200, 150)  # 1/8, no further
    assert decode(buffer.getvalue(), 10**7, min_side=1200).size == (1600, 1200)


def test_other_formats_are_reduced_by_a_whole_factor_after_decoding() -> None:
    buffer = io.BytesIO()
    solid((10, 200, 10), (1000, 800)).save(buffer, "PNG")
    assert decode(buffer.getvalue(), 10**7, min_side=200).size == (250, 200)
    assert decode(buffer.getvalue(), 10**7, min_side=201).size == (500, 400)


def test_a_stored_batch_embeds_each_picture_and_names_the_one_that_failed(
    model_dir: Path,
) -> None:
    embedder = create_embedder("onnx:tiny", model_dir)
    blobs = {}
    for name, colour in (("red", (250, 0, 0)), ("green", (0, 250, 0))):
        buffer = io.BytesIO()
        solid(colour, (32, 32)).save(buffer, "PNG")
        blobs[name] = buffer.getvalue()
    blobs["broken"] = b"not an image"
    red, bad, green = embed_stored(embedder, 10**7, blobs.__getitem__, ["red", "broken", "green"])
    np.testing.assert_allclose(red[0], [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(green[0], [0, 1, 0], atol=1e-6)
    assert bad[0] is None and "cannot identify" in bad[1]


def test_pack_features_are_still_an_embedder() -> None:
    embedder = create_embedder("pack-features")
    assert isinstance(embedder, PackFeatures) and embedder.model == "pack-features:1"
    vectors = embed(embedder, [solid((200, 0, 0)), solid((0, 0, 200))])
    assert vectors.shape == (2, embedder.dimension)
    assert float(vectors[0] @ vectors[1]) < 0.9


def test_commands_refuse_to_start_with_an_embedder_that_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("EMBEDDER", "onnx:efficientnet-lite9")
    monkeypatch.setenv("MODEL_DIR", str(tmp_path))
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "configuration error: EMBEDDER" in err and "make model" in err

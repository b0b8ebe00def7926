"""The ONNX embedder's loading and running code, on a tiny graph each test builds itself:
images (N, 3, 8, 8) -> global average pool -> (N, 3), so a picture's vector is its mean
colour and what the embedder feeds the graph can be checked exactly."""

from __future__ import annotations

import hashlib
import io
import json
from pathlib import Path

import msgspec
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper
from PIL import Image

from service.__main__ import main
from service.config import Settings
from service.services import Services
from service.similarity.background.reembed import reembed
from service.similarity.embedding import backbone as learned
from service.similarity.embedding import pack_features as features
from service.similarity.embedding.embedders import (
    Combined,
    EmbedderError,
    PackFeatures,
    create_embedder,
    decode,
)
from service.similarity.index.state import similarity_for
from tests.similarity.conftest import DEMO_PER_PRODUCT, DEMO_PRODUCTS, run

SIDE = 8


def write_tiny_model(folder: Path, name: str = "tiny", version: str = "7") -> Path:
    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["images"], ["pooled"]),
            helper.make_node("Flatten", ["pooled"], ["features"]),
        ],
        "tiny",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["n", 3, SIDE, SIDE])],
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, ["n", 3])],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    path = folder / f"{name}.onnx"
    onnx.save(model, path)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    (folder / f"{name}.json").write_text(json.dumps({"version": version, "sha256": digest}))
    return path


@pytest.fixture
def model_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "models"
    folder.mkdir()
    write_tiny_model(folder)
    return folder


def solid(colour: tuple[int, int, int], size: tuple[int, int] = (30, 20)) -> Image.Image:
    return Image.new("RGB", size, colour)


def test_a_built_model_loads_with_its_name_version_and_shapes(model_dir: Path) -> None:
    embedder = create_embedder("onnx:tiny", model_dir)
    assert embedder.model == "tiny:7"
    assert embedder.dimension == 3 and embedder.work_size == SIDE


def test_images_go_in_as_rgb_0_to_255_and_come_out_unit_length(model_dir: Path) -> None:
    embedder = learned.OnnxEmbedder(model_dir, "tiny")
    red, blue, mixed = embedder.embed([solid((200, 0, 0)), solid((0, 0, 90)), solid((30, 40, 0))])
    np.testing.assert_allclose(red, [1, 0, 0], atol=1e-6)
    np.testing.assert_allclose(blue, [0, 0, 1], atol=1e-6)
    np.testing.assert_allclose(mixed, [0.6, 0.8, 0], atol=1e-5)
    assert red.dtype == np.float32


def test_batches_give_what_single_images_give(model_dir: Path) -> None:
    embedder = learned.OnnxEmbedder(model_dir, "tiny")
    rng = np.random.default_rng(3)
    images = [
        Image.fromarray(rng.integers(0, 256, (12, 9 + n % 5, 3), dtype=np.uint8))
        for n in range(learned.BATCH * 2 + 3)  # several batches and a remainder
    ]
    together = embedder.embed(images)
    one_by_one = np.stack([embedder.embed([image])[0] for image in images])
    np.testing.assert_allclose(together, one_by_one, atol=1e-6)
    assert embedder.embed([]).shape == (0, 3)


def test_a_studio_backdrop_is_trimmed_before_the_model_sees_the_pack(model_dir: Path) -> None:
    pack = solid((0, 150, 0), (40, 60))
    on_white = Image.new("RGB", (200, 200), (255, 255, 255))
    on_white.paste(pack, (80, 70))
    embedder = learned.OnnxEmbedder(model_dir, "tiny")
    np.testing.assert_allclose(embedder.embed([on_white])[0], [0, 1, 0], atol=0.02)


def test_combined_is_a_weighted_mean_of_the_two_cosines(model_dir: Path) -> None:
    embedder = create_embedder("combined:tiny", model_dir)
    assert isinstance(embedder, Combined)
    assert embedder.dimension == features.DIMENSION + 3
    assert embedder.model.startswith("pack-features+tiny:1-7-w")
    images = [solid((200, 30, 0)), solid((20, 30, 200))]
    both = embedder.embed(images)
    np.testing.assert_allclose(np.linalg.norm(both, axis=1), 1.0, rtol=1e-5)
    pack, tiny = PackFeatures().embed(images), learned.OnnxEmbedder(model_dir, "tiny").embed(images)
    (w_pack, _), (w_tiny, _) = [(w, part) for part, w in embedder.parts]
    expected = (w_pack * pack[0] @ pack[1] + w_tiny * tiny[0] @ tiny[1]) / (w_pack + w_tiny)
    assert float(both[0] @ both[1]) == pytest.approx(float(expected), abs=1e-5)


def test_a_missing_model_says_how_to_build_it(tmp_path: Path) -> None:
    with pytest.raises(EmbedderError, match="make model"):
        create_embedder("onnx:efficientnet-lite0", tmp_path)


def test_a_model_that_does_not_match_its_checksum_is_refused(model_dir: Path) -> None:
    with (model_dir / "tiny.onnx").open("ab") as f:
        f.write(b"\0")
    with pytest.raises(EmbedderError, match="checksum"):
        create_embedder("onnx:tiny", model_dir)


@pytest.mark.parametrize("spec", ["onnx:../tiny", "onnx:", "onnx:Tiny", "clip", "combined:"])
def test_bad_embedder_names_are_refused(model_dir: Path, spec: str) -> None:
    with pytest.raises(EmbedderError):
        create_embedder(spec, model_dir)


def test_jpegs_are_decoded_just_large_enough_for_the_embedder(model_dir: Path) -> None:
    buffer = io.BytesIO()
    solid((10, 200, 10), (1600, 1600)).save(buffer, "JPEG")
    assert max(decode(buffer.getvalue(), 10**7, work_size=224).size) == 400
    assert max(decode(buffer.getvalue(), 10**7, work_size=600).size) == 800


def test_reembed_moves_a_database_to_the_onnx_embedder(
    demo_settings: Settings, model_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    snapshots = DEMO_PRODUCTS * DEMO_PER_PRODUCT
    monkeypatch.setenv("DATABASE_URL", demo_settings.database_url)
    monkeypatch.setenv("STORAGE_URL", demo_settings.storage_url)
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("EMBEDDER", "onnx:tiny")
    monkeypatch.setenv("MODEL_DIR", str(model_dir))
    assert main(["reembed", "--prune"]) == 0
    err = capsys.readouterr().err
    assert "model tiny:7 (3 dimensions)" in err and f"suspicion scored for {snapshots}" in err

    settings = with_tiny(demo_settings, model_dir)

    async def check(services: Services) -> None:
        similarity = similarity_for(services)
        assert similarity.model == "tiny:7"

        def read(session):  # type: ignore[no-untyped-def]
            rows = session.raw("SELECT model, LENGTH(embedding) AS size FROM snapshot_embeddings")
            return {(row["model"], row["size"]) for row in rows}, len(rows)

        kinds, count = await services.db.read(read)
        assert kinds == {("tiny:7", 3 * 4)} and count == snapshots

    run(settings, check)


def with_tiny(settings: Settings, model_dir: Path) -> Settings:
    return msgspec.structs.replace(settings, embedder="onnx:tiny", model_dir=str(model_dir))


def test_uploads_are_embedded_by_the_configured_onnx_model(
    demo_settings: Settings, model_dir: Path
) -> None:
    from service.catalog import store

    settings = with_tiny(demo_settings, model_dir)

    async def scenario(services: Services) -> None:
        await reembed(services, out=io.StringIO())
        buffer = io.BytesIO()
        solid((0, 0, 250), (64, 64)).save(buffer, "PNG")
        product = await store.create_product(
            services, upc="00000000012", name="Blue", image=buffer.getvalue()
        )
        similarity = similarity_for(services)
        vector = await services.db.read(
            lambda session: session.fetch_value(
                "similarity_product_embedding",
                {"product_id": product["id"], "model": similarity.model},
            )
        )
        np.testing.assert_allclose(np.frombuffer(vector, "<f4"), [0, 0, 1], atol=1e-6)

    run(settings, scenario)


def test_commands_refuse_to_start_with_an_embedder_that_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    monkeypatch.setenv("EMBEDDER", "onnx:efficientnet-lite9")
    monkeypatch.setenv("MODEL_DIR", str(tmp_path))
    assert main(["migrate"]) == 2
    err = capsys.readouterr().err
    assert "configuration error: EMBEDDER" in err and "make model" in err


def test_the_catch_up_embeds_a_batch_in_one_call_and_skips_a_bad_blob(
    demo_settings: Settings, model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.similarity.index import store

    settings = with_tiny(demo_settings, model_dir)

    async def scenario(services: Services) -> None:
        similarity = similarity_for(services)
        calls: list[int] = []
        embed = similarity.embedder.embed
        monkeypatch.setattr(
            similarity.embedder, "embed", lambda images: calls.append(len(images)) or embed(images)
        )
        keys = []
        for colour in ((250, 0, 0), (0, 250, 0)):
            buffer = io.BytesIO()
            solid(colour, (32, 32)).save(buffer, "PNG")
            keys.append(services.blobs.put(buffer.getvalue(), "png", "image/png"))
        broken = services.blobs.put(b"not an image", "png", "image/png")
        red, bad, green = await store.embed_blobs(services, similarity, [keys[0], broken, keys[1]])
        assert calls == [2] and bad is None
        np.testing.assert_allclose(red, [1, 0, 0], atol=1e-6)
        np.testing.assert_allclose(green, [0, 1, 0], atol=1e-6)

    run(settings, scenario)


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
    with pytest.raises(EmbedderError, match=r"needs one input \(N, 3, S, S\)"):
        create_embedder("onnx:flat", tmp_path)

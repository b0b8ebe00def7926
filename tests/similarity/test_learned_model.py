"""End to end with the real learned model (`make model`, which `make test` runs first):
EfficientNet-Lite0 features on trax-sample's real shelf photos, through import, reembed,
suggestions and suspects. Without the model this skips on a developer's machine and fails
under CI=true, where `make test` must have built it."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec
import numpy as np
import pytest
from PIL import Image

from service.config import ROOT, Settings
from service.similarity.embedding.embedders import create_embedder
from service.similarity.evaluate import measure, misattribute, score_all
from tests.conftest import SHARED_DATA
from tests.similarity.conftest import run

MODEL_DIR = ROOT / "var" / "models"
SPEC = "onnx:efficientnet-lite0"


@pytest.fixture(scope="module")
def model_dir() -> Path:
    if not (MODEL_DIR / "efficientnet-lite0.json").is_file():
        message = f"{MODEL_DIR}/efficientnet-lite0.onnx is not built: run `make model`"
        if os.environ.get("CI"):
            pytest.fail(message + " (CI runs `make test`, which builds it)")
        pytest.skip(message)
    return MODEL_DIR


def trax_images() -> tuple[list[Image.Image], list[Image.Image], np.ndarray]:
    root = SHARED_DATA / "trax-sample"
    products = sorted((root / "products").glob("*.jpg"))
    snapshots = sorted((root / "snapshots").glob("*/*.jpg"))
    upcs = [p.stem for p in products]
    truth = np.array([upcs.index(s.parent.name) for s in snapshots])
    load = lambda path: Image.open(path).convert("RGB")  # noqa: E731
    return [load(p) for p in products], [load(s) for s in snapshots], truth


def test_the_real_model_tells_trax_products_apart(model_dir: Path) -> None:
    embedder = create_embedder(SPEC, model_dir)
    assert embedder.model == "efficientnet-lite0:1" and embedder.dimension == 1280
    products, snapshots, truth = trax_images()
    references, photos = embedder.embed(products), embedder.embed(snapshots)
    np.testing.assert_allclose(np.linalg.norm(photos, axis=1), 1.0, rtol=1e-5)
    # measured: 99% of shelf photos are nearest their own product's studio image
    assert np.mean(np.argmax(photos @ references.T, axis=1) == truth) >= 0.95
    # a batch gives what one image at a time gives
    np.testing.assert_allclose(embedder.embed(snapshots[:3])[1], photos[1], atol=1e-4)


@pytest.mark.parametrize("spec", [SPEC, "combined:efficientnet-lite0"])
def test_the_real_model_finds_misattributed_trax_snapshots(
    trax_settings: Settings, model_dir: Path, spec: str
) -> None:
    from service.similarity.background.reembed import reembed

    settings = msgspec.structs.replace(trax_settings, embedder=spec, model_dir=str(model_dir))

    async def scenario(services):  # type: ignore[no-untyped-def]
        import io

        assert await misattribute(services, 0.1, seed=1) == 10
        await reembed(services, out=io.StringIO())
        await score_all(services)
        return await measure(services)

    quality = run(settings, scenario)
    assert quality.snapshots == 100 and quality.misattributed == 10
    assert quality.top1 >= 0.95 and quality.reference_top1 >= 0.95
    assert quality.suspect_precision is not None and quality.suspect_precision >= 0.9

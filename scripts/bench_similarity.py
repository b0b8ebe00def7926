"""`BENCH=similarity`: kNN over 100,000 stored embeddings on the embedded engine, and the
embedder's throughput.

- top-10 similar snapshots over 100,000 stored 580-dimension embeddings on SQLite, the way
  the API asks (`knn.nearest` in a read transaction: the matrix's change check, the
  in-memory product, the rows' details), p50 and p99; next to a plain numpy matrix product
  over the same vectors in the same run (the target is within 3x of it); and, for scale,
  the shared SQL (one Python DOT_PRODUCT call per row) on the same table.
- `GET /api/snapshots/{id}/similar?k=10` p50 through the app (in-process test client).
- embedding throughput on one core: 640x480 JPEG bytes (decode + embed), and decoded images.
- the learned embedder (`make model`, EfficientNet-Lite0 through onnxruntime): 640x480 JPEG
  bytes to vectors, in batches of 16 (as the catch-up and reembed run it) and one at a time
  (as an upload is embedded); skipped with a note when the model is not built.
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from scripts.bench import Metric

SNAPSHOTS = int(os.environ.get("BENCH_SIMILARITY_SNAPSHOTS", "100000"))
QUERIES = 200
SQL_QUERIES = 3
EMBED_IMAGES = 200


def _log(message: str) -> None:
    print(f"[bench] similarity: {message}", file=sys.stderr, flush=True)


def _metric(name: str, value: float, unit: str) -> Metric:
    return Metric(section="similarity", name=name, value=value, unit=unit)


def _percentile(values: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(values), q))


def _unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    """Clustered unit vectors (products with photo noise), like real embeddings."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(max(1, n // 100), d)).astype(np.float32)
    rows = centres[rng.integers(0, len(centres), n)] + 0.5 * rng.normal(size=(n, d))
    rows = rows.astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def _fill(folder: Path) -> tuple[object, list[int], np.ndarray]:
    """A migrated SQLite database with SNAPSHOTS snapshots and their embeddings."""
    from service.catalog.synthetic import load_catalog
    from service.config import SQL_DIR, Settings
    from service.db import create_engine, migrate
    from service.similarity.embedding.embedders import PackFeatures
    from service.similarity.index.vectors import pack
    from service.storage import create_blob_store

    settings = Settings(
        database_url=f"sqlite:///{folder / 'bench.db'}",
        storage_url=f"file://{folder / 'blobs'}",
        worker_enabled=False,
        log_level="warning",
    )
    engine = create_engine(settings.database_url, SQL_DIR)
    migrate(engine, SQL_DIR)
    blobs = create_blob_store(settings.storage_url)
    ids = load_catalog(engine, blobs, products=200, snapshots=SNAPSHOTS, seed=3)
    vectors = _unit_rows(len(ids), PackFeatures.dimension, seed=4)
    model = PackFeatures().model
    now = time.time()
    stamp = datetime.now(UTC).replace(tzinfo=None)
    for start in range(0, len(ids), 5000):
        chunk = [
            {"id": sid, "model": model, "embedding": pack(vectors[i]), "now": stamp}
            for i, sid in enumerate(ids[start : start + 5000], start=start)
        ]

        def write(session, chunk=chunk):  # type: ignore[no-untyped-def]
            session.execute_many("similarity_insert_snapshot_embedding", chunk)
            bump = {"kind": "snapshot", "appends": len(chunk), "rewrites": 0}
            session.execute("similarity_bump_version", bump)

        engine.write(write)
    _log(f"{len(ids)} embeddings stored in {time.time() - now:.1f}s")
    engine.close()
    return settings, ids, vectors


def _knn(settings, ids: list[int], vectors: np.ndarray) -> list[Metric]:  # type: ignore[no-untyped-def]
    from service.services import open_services
    from service.similarity.index import knn
    from service.similarity.index.state import similarity_for

    rng = random.Random(5)
    picks = [rng.randrange(len(ids)) for _ in range(QUERIES)]

    async def measure() -> tuple[list[float], list[float], list[float], float]:
        async with open_services(settings) as services:
            similarity = similarity_for(services)
            started = time.perf_counter()
            await services.db.read(similarity.matrices["snapshot"].current)
            load_s = time.perf_counter() - started

            def one(session, row: int):  # type: ignore[no-untyped-def]
                return knn.nearest(
                    similarity, session, "snapshot", vectors[row][None, :], 10, [ids[row]]
                )[0]

            embedded, plain = [], []
            for row in picks:
                t0 = time.perf_counter()
                found = services.db.engine.read(lambda s, r=row: one(s, r))
                embedded.append(time.perf_counter() - t0)
                assert len(found) == 10
                t0 = time.perf_counter()
                scores = vectors @ vectors[row]
                plain.append(time.perf_counter() - t0)
                assert scores.shape == (len(ids),)
            similarity.matrix_min_rows = 10**12  # force the shared SQL
            in_sql = []
            for row in picks[:SQL_QUERIES]:
                t0 = time.perf_counter()
                services.db.engine.read(lambda s, r=row: one(s, r))
                in_sql.append(time.perf_counter() - t0)
            return embedded, plain, in_sql, load_s

    embedded, plain, in_sql, load_s = asyncio.run(measure())
    p50, numpy_p50 = _percentile(embedded, 50), _percentile(plain, 50)
    _log(f"top-10: p50 {p50 * 1e3:.2f} ms, numpy matmul p50 {numpy_p50 * 1e3:.2f} ms")
    return [
        _metric("top10_100k_p50", p50 * 1e3, "ms"),
        _metric("top10_100k_p99", _percentile(embedded, 99) * 1e3, "ms"),
        _metric("numpy_matmul_100k_p50", numpy_p50 * 1e3, "ms"),
        _metric("top10_vs_numpy_ratio", p50 / numpy_p50, "x"),
        _metric("sql_dot_product_100k", statistics.median(in_sql) * 1e3, "ms"),
        _metric("matrix_first_load_100k", load_s * 1e3, "ms"),
    ]


def _http(settings, ids: list[int]) -> list[Metric]:  # type: ignore[no-untyped-def]
    from litestar.testing import TestClient

    from service.app import create_app

    rng = random.Random(6)
    times = []
    with TestClient(app=create_app(settings)) as client:  # settings log warnings only
        client.get(f"/api/snapshots/{ids[0]}/similar")  # warm: first matrix load
        for _ in range(100):
            sid = ids[rng.randrange(len(ids))]
            t0 = time.perf_counter()
            response = client.get(f"/api/snapshots/{sid}/similar", params={"k": 10})
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.text
    return [_metric("http_similar_100k_p50", _percentile(times, 50) * 1e3, "ms")]


def _photos() -> list[bytes]:
    """EMBED_IMAGES 640x480 JPEGs: trax-sample's shelf photos, upscaled (noise without it)."""
    from PIL import Image

    root = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "trax-sample"
    sources = sorted(root.glob("snapshots/*/*.jpg"))
    rng = np.random.default_rng(7)
    photos = []
    for n in range(EMBED_IMAGES):
        if sources:
            image = Image.open(sources[n % len(sources)]).convert("RGB").resize((640, 480))
        else:  # no shared data: noise photos of the same size
            image = Image.fromarray(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8))
        buffer = io.BytesIO()
        image.save(buffer, "JPEG", quality=88)
        photos.append(buffer.getvalue())
    return photos


def _embedding(photos: list[bytes]) -> list[Metric]:
    from PIL import Image

    from service.similarity.embedding.embedders import PackFeatures, decode

    decoded = [Image.open(io.BytesIO(p)).convert("RGB") for p in photos]
    embedder = PackFeatures()
    embedder.embed(decoded[:5])  # warm
    t0 = time.perf_counter()
    for data in photos:
        embedder.embed([decode(data, 50_000_000)])
    from_bytes = time.perf_counter() - t0
    t0 = time.perf_counter()
    embedder.embed(decoded)
    from_images = time.perf_counter() - t0
    _log(f"embedding: {from_bytes / len(photos) * 1e3:.2f} ms per 640x480 JPEG")
    return [
        _metric("embed_jpeg_640x480_throughput", len(photos) / from_bytes, "images/s"),
        _metric("embed_decoded_640x480_ms", from_images / len(decoded) * 1e3, "ms"),
    ]


def _onnx_embedding(photos: list[bytes]) -> list[Metric]:
    from service.config import Settings
    from service.similarity.embedding.embedders import EmbedderError, create_embedder, decode

    try:
        embedder = create_embedder("onnx:efficientnet-lite0", Settings().model_dir)
    except EmbedderError as exc:
        _log(f"onnx embedder skipped: {exc}")
        return []
    size = embedder.work_size
    embedder.embed([decode(photos[0], 50_000_000, size)])  # warm: first run allocates
    t0 = time.perf_counter()
    for start in range(0, len(photos), 16):
        embedder.embed([decode(data, 50_000_000, size) for data in photos[start : start + 16]])
    batched = time.perf_counter() - t0
    t0 = time.perf_counter()
    for data in photos[:50]:
        embedder.embed([decode(data, 50_000_000, size)])
    single = time.perf_counter() - t0
    _log(f"onnx embedding: {batched / len(photos) * 1e3:.1f} ms per 640x480 JPEG in batches")
    return [
        _metric("onnx_embed_jpeg_640x480_batched", len(photos) / batched, "images/s"),
        _metric("onnx_embed_jpeg_640x480_single", 50 / single, "images/s"),
    ]


def run() -> list[Metric]:
    from service.logs import configure_logging

    configure_logging("warning", "console")  # keep migrations' and requests' logs off stdout
    photos = _photos()
    metrics = _embedding(photos) + _onnx_embedding(photos)
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
        _log(f"storing {SNAPSHOTS} snapshots with embeddings")
        settings, ids, vectors = _fill(Path(tmp))
        metrics += _knn(settings, ids, vectors)
        metrics += _http(settings, ids)
    return metrics


if __name__ == "__main__":
    for metric in run():
        print(metric)

"""`BENCH=similarity`: recognition's speed, and kNN over 100,000 stored embeddings.

- embedding throughput as the background catch-up runs it (one process, one inference
  thread; decode, views, network): grocery-train's store photos (348x348, three views:
  catalog photos), and store-visit photos at reduced size (one view after a DCT-scaled
  decode: 640x480 JPEGs, and 4032x3024 phone photos);
- the geometric check: local features of one photo, and one photo-packshot match;
- requests over grocery-train imported (projection fitted, every snapshot scored):
  `GET /api/snapshots/{id}/suggestions` p50 (re-ranking included: inliers cached by the
  scoring, and with the cache emptied) and `POST /api/search` p50 (a new photo: its local
  features and ten packshot matches on every request);
- top-10 similar snapshots over 100,000 stored 1280-dimension embeddings on SQLite, the way
  the API asks (`knn.nearest` in a read transaction: the matrix's change check, the
  in-memory product, the rows' details), p50 and p99; next to a plain numpy matrix product
  over the same vectors in the same run; and, for scale, the shared SQL (one Python
  DOT_PRODUCT call per row) on the same table.
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
JOB_PHOTOS = 200
PHONE_PHOTOS = 40
REQUESTS = 60
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
GROCERY = SHARED / "grocery-train"


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


def _fill(folder: Path, model: str, dimension: int) -> tuple[object, list[int], np.ndarray]:
    """A migrated SQLite database with SNAPSHOTS snapshots and their embeddings of `model`."""
    from service.catalog.synthetic import load_catalog
    from service.config import SQL_DIR, Settings
    from service.db import create_engine, migrate
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
    vectors = _unit_rows(len(ids), dimension, seed=4)
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
    from service.similarity.index.state import current_for, similarity_for

    rng = random.Random(5)
    picks = [rng.randrange(len(ids)) for _ in range(QUERIES)]

    async def measure() -> tuple[list[float], list[float], list[float], float]:
        async with open_services(settings) as services:
            similarity = similarity_for(services)
            model = (await current_for(services)).model
            matrix = similarity.matrix("snapshot", model)
            assert matrix is not None
            started = time.perf_counter()
            await services.db.read(matrix.current)
            load_s = time.perf_counter() - started

            def one(session, row: int):  # type: ignore[no-untyped-def]
                return knn.nearest(
                    similarity, session, "snapshot", model, vectors[row][None, :], 10, [ids[row]]
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


def _jpeg(image, quality: int = 85) -> bytes:  # type: ignore[no-untyped-def]
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def _job_photos(size: tuple[int, int], count: int) -> list[bytes]:
    """Store-visit photos of a real-size: grocery-train photos scaled up, JPEG q85."""
    from PIL import Image

    sources = sorted(GROCERY.glob("snapshots/*/*.jpg"))
    return [
        _jpeg(Image.open(sources[n * 7 % len(sources)]).convert("RGB").resize(size))
        for n in range(count)
    ]


def _rate(embedder, photos: list[bytes], fast: bool) -> float:  # type: ignore[no-untyped-def]
    """Images per second through `embed_stored`, the catch-up's path, in batches of 64."""
    from service.similarity.embedding.decode import embed_stored

    embed_stored(embedder, 10**8, photos.__getitem__, [0], fast)  # warm: first run allocates
    keys = list(range(len(photos)))
    t0 = time.perf_counter()
    for start in range(0, len(keys), 64):
        results = embed_stored(embedder, 10**8, photos.__getitem__, keys[start : start + 64], fast)
        assert all(vector is not None for vector, _ in results)
    return len(photos) / (time.perf_counter() - t0)


def _embedding() -> list[Metric]:
    from service.similarity.embedding.embedders import create_embedder

    embedder = create_embedder("default")
    catalog = [path.read_bytes() for path in sorted(GROCERY.glob("snapshots/*/*.jpg"))]
    catalog_rate = _rate(embedder, catalog, fast=False)
    small_rate = _rate(embedder, _job_photos((640, 480), JOB_PHOTOS), fast=True)
    phone_rate = _rate(embedder, _job_photos((4032, 3024), PHONE_PHOTOS), fast=True)
    _log(
        f"embedding: {catalog_rate:.0f} catalog photos/s, {small_rate:.0f} job photos/s "
        f"(640x480), {phone_rate:.0f} phone photos/s"
    )
    return [
        _metric("embed_catalog_photos_per_s", catalog_rate, "images/s"),
        _metric("embed_job_640x480_per_s", small_rate, "images/s"),
        _metric("embed_job_4032x3024_per_s", phone_rate, "images/s"),
    ]


def _geometry() -> list[Metric]:
    from PIL import Image

    from service.similarity.ranking import geometry

    photos = [Image.open(p) for p in sorted(GROCERY.glob("snapshots/*/*.jpg"))[:60]]
    packshot = geometry.local_features(Image.open(sorted(GROCERY.glob("products/*.jpg"))[0]))
    t0 = time.perf_counter()
    found = [geometry.local_features(photo) for photo in photos]
    features_ms = (time.perf_counter() - t0) / len(photos) * 1e3
    t0 = time.perf_counter()
    for features in found:
        geometry.inliers(features, packshot)
    match_ms = (time.perf_counter() - t0) / len(found) * 1e3
    _log(f"geometric check: {features_ms:.1f} ms features, {match_ms:.1f} ms per match")
    return [
        _metric("local_features_348px_ms", features_ms, "ms"),
        _metric("geometric_match_ms", match_ms, "ms"),
    ]


def _requests(folder: Path) -> list[Metric]:
    """Suggestions and search over grocery-train imported, through the app."""
    from litestar.testing import TestClient

    from service.app import create_app
    from service.catalog.importer import import_catalog
    from service.config import SQL_DIR, Settings
    from service.db import migrate_database
    from service.services import open_services
    from service.similarity.background.reembed import reembed

    settings = Settings(
        database_url=f"sqlite:///{folder / 'grocery.db'}",
        storage_url=f"file://{folder / 'grocery-blobs'}",
        worker_enabled=False,
        log_level="warning",
    )
    migrate_database(settings.database_url, SQL_DIR)

    async def load() -> None:
        async with open_services(settings) as services:
            await import_catalog(services, GROCERY)
            await reembed(services, out=io.StringIO())

    _log("grocery-train imported, embedded, fitted and scored for the request timings")
    asyncio.run(load())
    ids = [int(row[0]) for row in sqlite_rows(folder / "grocery.db", "SELECT id FROM snapshots")]
    rng = random.Random(8)
    picks = [ids[rng.randrange(len(ids))] for _ in range(REQUESTS)]
    uploads = [p.read_bytes() for p in sorted(GROCERY.glob("snapshots/*/*.jpg"))[::10]]

    def timed(call) -> list[float]:  # type: ignore[no-untyped-def]
        times = []
        for n in range(REQUESTS):
            t0 = time.perf_counter()
            response = call(n)
            times.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.text
        return times

    with TestClient(app=create_app(settings)) as client:
        client.get(f"/api/snapshots/{ids[0]}/suggestions")  # warm: matrices, packshot features
        cached = timed(lambda n: client.get(f"/api/snapshots/{picks[n]}/suggestions"))
        sqlite_rows(folder / "grocery.db", "DELETE FROM snapshot_matches", write=True)
        cold = timed(lambda n: client.get(f"/api/snapshots/{picks[n]}/suggestions"))
        search = timed(
            lambda n: client.post(
                "/api/search",
                files={"image": ("photo.jpg", uploads[n % len(uploads)], "image/jpeg")},
            )
        )
    p50 = _percentile(cached, 50) * 1e3, _percentile(search, 50) * 1e3
    _log(f"suggestions p50 {p50[0]:.0f} ms, search p50 {p50[1]:.0f} ms")
    return [
        _metric("http_suggestions_p50", _percentile(cached, 50) * 1e3, "ms"),
        _metric("http_suggestions_uncached_p50", _percentile(cold, 50) * 1e3, "ms"),
        _metric("http_search_p50", _percentile(search, 50) * 1e3, "ms"),
        _metric("http_search_p99", _percentile(search, 99) * 1e3, "ms"),
    ]


def sqlite_rows(path: Path, sql: str, write: bool = False) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(path) as connection:
        rows = connection.execute(sql).fetchall()
        if write:
            connection.commit()
        return rows


def run() -> list[Metric]:
    from service.logs import configure_logging
    from service.similarity.embedding.embedders import create_embedder

    configure_logging("warning", "console")  # keep migrations' and requests' logs off stdout
    metrics = _embedding() + _geometry()
    embedder = create_embedder("default")
    with tempfile.TemporaryDirectory(prefix="bench-similarity-") as tmp:
        metrics += _requests(Path(tmp))
        _log(f"storing {SNAPSHOTS} snapshots with embeddings")
        settings, ids, vectors = _fill(Path(tmp), embedder.model, embedder.dimension)
        metrics += _knn(settings, ids, vectors)
    return metrics


if __name__ == "__main__":
    for metric in run():
        print(metric)

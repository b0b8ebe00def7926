"""Similarity fixtures: catalogs with embeddings and scores, built once per session and copied
into each test's temp dir (a copy of a small SQLite file and its blobs is cheap)."""

from __future__ import annotations

import asyncio
import io
import shutil
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.catalog import demo, store
from service.catalog.importer import import_catalog
from service.config import Settings
from service.services import Services, open_services
from service.similarity.background.reembed import reembed
from tests.conftest import SHARED_DATA, make_app, make_settings, migrated, require_shared

T = TypeVar("T")

DEMO_PRODUCTS = 20
DEMO_PER_PRODUCT = 12  # 240 snapshots, 12 of them attributed to the wrong product


def run(settings: Settings, fn: Callable[[Services], Awaitable[T]]) -> T:
    """Run `fn(services)` on services opened over `settings`, outside any app."""

    async def main() -> T:
        async with open_services(settings) as services:
            return await fn(services)

    return asyncio.run(main())


async def seed_demo(services: Services, per_product: int = DEMO_PER_PRODUCT) -> None:
    """The demo catalog (service.catalog.demo), smaller, with its truth rows."""
    products = demo.products(DEMO_PRODUCTS)
    packs = [demo.pack_image(p) for p in products]
    ids = []
    for product, pack in zip(products, packs, strict=True):
        row = await store.create_product(
            services, upc=product.upc, name=product.name, image=demo.png(pack)
        )
        ids.append(row["id"])
    for snapshot in demo.plan(len(products), per_product):
        added = await store.add_snapshot(
            services, product_id=ids[snapshot.product_index], image=demo.render(snapshot, packs)
        )
        await services.db.execute(
            "catalog_insert_truth",
            {"snapshot_id": added.snapshot_id, "true_product_id": ids[snapshot.true_index]},
        )


_JOB_ROWS = [
    "INSERT INTO jobs (id, created_at, visit_count, image_count) VALUES (:job_id, :now, 1, 1)",
    "INSERT INTO job_visits (job_id, visit_index, store_id, visit_time) "
    "VALUES (:job_id, 0, 'RP00001', :now)",
    "INSERT INTO job_images (job_id, seq, visit_index, url, sched, status, lease_expires) "
    "VALUES (:job_id, 0, 0, 'https://example.com/1.jpg', 0, 'done', :now)",
    "INSERT INTO image_results (job_id, seq, visit_index, store_id, visit_time, url, status, "
    "width, height, perimeter, blob_key, attempts, started_at, finished_at, worker) "
    "VALUES (:job_id, 0, 0, 'RP00001', :now, 'https://example.com/1.jpg', 'done', "
    "224, 224, 896, :blob_key, 1, :now, :now, 'test')",
]


async def add_job_image(services: Services, job_id: int, image: bytes) -> str:
    """A settled store-visit image (job `job_id`, seq 0) stored in the blob store, as the
    jobs worker leaves it (SQLite only: raw rows in the jobs tables)."""
    key = services.blobs.put(image, "jpg", "image/jpeg")
    params = {"job_id": job_id, "blob_key": key, "now": datetime(2026, 11, 21, 10)}

    def insert(session) -> None:  # type: ignore[no-untyped-def]
        for statement in _JOB_ROWS:
            session.raw(statement, params)

    await services.db.transaction(insert)
    return key


def _build(folder: Path, fill: Callable[[Services], Awaitable[None]]) -> Path:
    settings = migrated(make_settings(folder))

    async def everything(services: Services) -> None:
        await fill(services)
        await reembed(services, out=io.StringIO())

    run(settings, everything)
    return folder


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _build(tmp_path_factory.mktemp("demo"), seed_demo)


@pytest.fixture(scope="session")
def trax_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = require_shared(SHARED_DATA / "trax-sample")

    async def fill(services: Services) -> None:
        report = await import_catalog(services, root)
        assert not report.failures, report.failures

    return _build(tmp_path_factory.mktemp("trax"), fill)


def _copy(template: Path, folder: Path) -> Settings:
    for name in ("test.db", "test.db-wal", "test.db-shm"):
        if (template / name).exists():
            shutil.copy(template / name, folder / name)
    shutil.copytree(template / "blobs", folder / "blobs")
    return make_settings(folder)


@pytest.fixture
def demo_settings(demo_template: Path, tmp_path: Path) -> Settings:
    return _copy(demo_template, tmp_path)


@pytest.fixture
def trax_settings(trax_template: Path, tmp_path: Path) -> Settings:
    return _copy(trax_template, tmp_path)


@pytest.fixture
def demo_client(demo_settings: Settings) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=make_app(demo_settings), raise_server_exceptions=False) as client:
        yield client

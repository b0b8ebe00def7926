"""The seeded databases each run copies: the demo catalog, or real photos with a share
mis-attributed (a copy of the folder with photos moved), embedded and scored."""

from __future__ import annotations

import asyncio
import dataclasses
import random
import shutil
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

from scripts.simulation.reviewers import score, work_queue
from scripts.simulation.scenarios import PHOTOS, WRONG_SHARE, Options, Result, Scenario
from service.config import SQL_DIR, Settings, load_settings
from service.db import create_engine, migrate_database


@dataclass(frozen=True)
class Template:
    """A seeded database to copy for each run, its blobs, and the snapshots to score."""

    database: Path
    blobs: Path
    after_id: int = 0  # snapshots up to this id are history, not scored


def _settings(database: Path, blobs: Path, options: Options, **changes: Any) -> Settings:
    return msgspec.structs.replace(
        load_settings(environ={}, dotenv=None),
        database_url=f"sqlite:///{database}", storage_url=f"file://{blobs}",
        worker_enabled=False, log_level="warning", embedder=options.embedder,
        model_dir=options.model_dir, **changes,
    )  # fmt: skip


def _misattributed_copy(catalog: str, target: Path, seed: int) -> dict[str, str]:
    """Copy a catalog of real photos with a share of snapshots in another product's folder;
    returns {"folder/file": true upc} for every snapshot."""
    source = PHOTOS[catalog]
    upcs = sorted(p.name for p in (source / "snapshots").iterdir() if p.is_dir())
    if not (target / "products").exists():
        shutil.copytree(source / "products", target / "products")
        if (source / "products.csv").exists():
            shutil.copy(source / "products.csv", target / "products.csv")
    files = [(upc, f) for upc in upcs for f in sorted((source / "snapshots" / upc).glob("*.jpg"))]
    rng = random.Random(f"{catalog}/{seed}")
    moved = set(rng.sample(range(len(files)), round(WRONG_SHARE * len(files))))
    truth = {}
    for number, (upc, path) in enumerate(files):
        folder = upc
        if number in moved:
            folder = rng.choice([u for u in upcs if u != upc])
        (target / "snapshots" / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / "snapshots" / folder / path.name)
        truth[f"{folder}/{path.name}"] = upc
    return truth


async def _import_photos(services: Any, catalog: str, options: Options, work: Path,
                         after_id: int) -> str:  # fmt: skip
    from service.catalog import store
    from service.catalog.importer import import_catalog

    folder = work / f"{catalog}-{options.draws}"
    truth = _misattributed_copy(catalog, folder, options.draws)
    report = await import_catalog(services, folder)
    rows = await services.db.fetch_all("qa_export_page", {"after_id": after_id, "limit": 10**6})
    for row in rows:
        snapshot = await services.db.fetch_one(
            "catalog_snapshot_by_id", {"snapshot_id": row["snapshot_id"]}
        )
        true_id = await store.product_id(services, truth[snapshot["source"]])
        await services.db.execute(
            "catalog_insert_truth", {"snapshot_id": row["snapshot_id"], "true_product_id": true_id}
        )
    return report.summary()


async def _refresh_scores(services: Any) -> None:
    """Embed what the seed stored, fit the projection and score every snapshot on the whole
    collection, as the background catch-up does after a bulk load."""
    import io

    from service.clock import utcnow
    from service.similarity.background.reembed import reembed
    from service.similarity.ranking.suspects import BATCH, rescore

    started = utcnow()
    await reembed(services, out=io.StringIO())
    while await rescore(services, BATCH, stale_after=utcnow() - started):
        pass


async def _seed(settings: Settings, catalog: str, options: Options, work: Path,
                after_id: int) -> str:  # fmt: skip
    from service.catalog.seed import seed_catalog
    from service.services import open_services

    async with open_services(settings) as services:
        if catalog == "demo":
            summary = await seed_catalog(services, False, options.products, options.per_product)
        else:
            summary = await _import_photos(services, catalog, options, work, after_id)
        await _refresh_scores(services)
    return summary


def _last_id(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT COALESCE(MAX(id), 0) FROM snapshots").fetchone()[0])


def prepare(catalog: str, options: Options, work: Path, history: Path | None = None) -> Template:
    """Seed `catalog` once into work/: into a fresh database, or into a copy of `history` (a
    database after a run, whose snapshots are then history and not scored)."""
    database = work / f"{catalog.replace(' ', '-')}-{options.draws}.db"
    blobs = work / "blobs"
    database.unlink(missing_ok=True)
    if history is not None:
        _copy_database(history, database)
    after_id = _last_id(database) if history is not None else 0
    settings = _settings(database, blobs, options)
    migrate_database(settings.database_url, SQL_DIR)
    summary = asyncio.run(_seed(settings, catalog.split()[0], options, work, after_id))
    print(f"{catalog} ({options.draws}): {summary}", file=sys.stderr)
    return Template(database, blobs, after_id)


def _copy_database(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def run_scenario(scenario: Scenario, template: Template, options: Options,
                 work: Path) -> tuple[Result, Path]:  # fmt: skip
    """One run on a copy of the template; returns its figures and its database."""
    from litestar.testing import TestClient

    from service.app import create_app

    name = f"run-{scenario.catalog}-{scenario.crowd.name}-{scenario.rule}.db"
    database = work / "".join(c if c.isalnum() or c in ".-" else "-" for c in name)
    _copy_database(template.database, database)
    settings = _settings(database, template.blobs, options, qa_session_size=options.session_size,
                         qa_consensus=scenario.consensus)  # fmt: skip
    engine = create_engine(settings.database_url, SQL_DIR)
    try:
        if scenario.inverted:
            engine.write(lambda s: s.raw("UPDATE snapshot_suspicion SET suspicion = -suspicion"))
        app = create_app(settings, configure_logs=False)
        with TestClient(app=app, raise_server_exceptions=True) as client:
            seconds = work_queue(client, engine, scenario.crowd, options)
        result = score(engine, scenario, seconds, template.after_id)
        single = (options.draws, result.per_snapshot, result.accuracy)
        return dataclasses.replace(result, singles=(single,)), database
    finally:
        engine.close()

"""The catalog teaches its own similarity: fit the projection from labels, in the background
(`labels` says what is fitted from, and when a refit is due).

A fit becomes a new version: its vectors are written beside the active version's
("MODEL+pN"), every snapshot is scored for it, and only then is it made active, so queries
never see a half-projected catalog. The version before stays until the next activation (a
process may still read it for up to a second); older ones are deleted. A build cut short by
a restart is resumed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import asdict
from datetime import datetime
from typing import Any

import structlog

from service.clock import utcnow
from service.db import Row, Session
from service.services import Services
from service.similarity.background.catchup import project_missing
from service.similarity.background.labels import Counts, due, training_set
from service.similarity.embedding import projection as wccn
from service.similarity.embedding.projection import Projection
from service.similarity.index import projections, store
from service.similarity.index.state import Current, similarity_for
from service.similarity.ranking import suspects

log = structlog.get_logger(__name__)

DELETE_BATCH = 5_000
_DELETE_MODEL = (
    "similarity_delete_model_products",
    "similarity_delete_model_snapshots",
    "similarity_delete_model_job_images",
    "similarity_delete_model_suspicion",
)


async def _training_rows(services: Services, raw_model: str) -> tuple[list[Row], list[Row]]:
    def read(session: Session) -> tuple[list[Row], list[Row]]:
        params = {"raw_model": raw_model}
        return (
            session.fetch_all("similarity_training_products", params),
            session.fetch_all("similarity_training_snapshots", params),
        )

    return await services.db.read(read)


def _last_fit(rows: list[Row]) -> tuple[Counts | None, datetime | None]:
    for row in rows:  # newest first
        counts = json.loads(row["trained_on"]).get("counts")
        if counts:
            return Counts(**counts), row["created_at"]
    return None, None


async def refit_if_due(services: Services, clock: Callable[[], datetime] = utcnow) -> int | None:
    """Resume a cut-short build, or fit and build a new version when one is due; returns
    the version made active, or None."""
    similarity = similarity_for(services)
    raw_model = similarity.raw_model

    def read(session: Session) -> tuple[list[Row], Counts]:
        return projections.listing(session, raw_model), Counts.read(session, raw_model)

    rows, counts = await services.db.read(read)
    building = next((row for row in rows if row["phase"] == "building"), None)
    if building is not None:
        projection = await asyncio.to_thread(
            projections.load, services.blobs, building["blob_key"], building["digest"]
        )
        return await build(services, projection)
    last, last_at = _last_fit(rows)
    if not due(counts, last, last_at, clock()):
        return None
    return await refit(services, counts, clock)


Select = Callable[[list[Row], list[Row]], tuple[list[Row], list[Row]]]


async def refit(
    services: Services,
    counts: Counts | None = None,
    clock: Callable[[], datetime] = utcnow,
    select: Select | None = None,
) -> int | None:
    """Fit a new version from the labels now and build it; None if there is nothing to fit.
    `select` narrows the training rows (cross-validation leaves some out)."""
    similarity = similarity_for(services)
    raw_model = similarity.raw_model
    products, snapshots = await _training_rows(services, raw_model)
    if select is not None:
        products, snapshots = select(products, snapshots)
    if counts is None:
        counts = await services.db.read(lambda session: Counts.read(session, raw_model))
    version = await services.db.read(lambda s: projections.next_version(s, raw_model))

    def fit() -> tuple[Projection, dict[str, int]]:
        data = training_set(products, snapshots, similarity.embedder.dimension)
        return wccn.fit(data.vectors, data.labels, data.weights, version), data.summary

    try:
        projection, summary = await asyncio.to_thread(fit)
    except ValueError as exc:  # too few labels to fit anything yet
        log.info("projection not fitted", reason=str(exc))
        return None
    blob_key, digest = await asyncio.to_thread(projections.save, services.blobs, projection)
    trained_on: dict[str, Any] = {**summary, "counts": asdict(counts)}
    await services.db.transaction(
        lambda session: projections.record(
            session, raw_model, version, blob_key, digest, trained_on, clock()
        )
    )
    log.info("projection fitted", version=version, **summary)
    return await build(services, projection, clock)


async def build(
    services: Services, projection: Projection, clock: Callable[[], datetime] = utcnow
) -> int | None:
    """Project and score everything for a fitted version, then make it active."""
    similarity = similarity_for(services)
    building = Current(similarity.raw_model, projection)
    for kind in ("product", "snapshot"):
        while await project_missing(services, kind, building):
            pass
    scored = await suspects.rescore_all(services, current=building)

    def activate(session: Session) -> bool:
        return projections.activate(session, building.raw_model, building.version, clock())

    if not await services.db.transaction(activate):
        return None
    similarity.refresh()
    log.info("projection active", version=building.version, model=building.model, scored=scored)
    await delete_retired(services)
    return building.version


async def delete_retired(services: Services) -> int:
    """Delete the rows of retired versions but the newest retired one; returns how many."""
    similarity = similarity_for(services)
    rows = await services.db.read(lambda s: projections.listing(s, similarity.raw_model))
    retired = [row for row in rows if row["phase"] == "retired"][1:]
    deleted = 0
    for row in retired:
        model = projections.projected_model(similarity.raw_model, int(row["version"]))
        for query in _DELETE_MODEL:
            while True:
                result = await services.db.execute(query, {"model": model, "batch": DELETE_BATCH})
                deleted += max(result.rowcount, 0)
                if result.rowcount < DELETE_BATCH:
                    break
    if deleted:

        def reload(session: Session) -> None:
            for kind in ("product", "snapshot"):
                store.note_rewrite(session, similarity.dialect, kind)

        await services.db.transaction(reload)
    return deleted

"""The catalog teaches its own similarity: fit the projection from labels, in the background.

Labels the service has, from most to least trusted:
- every product's reference image (weight 1): the truth about that product;
- snapshots QA confirmed (status `match`) or a lead confirmed (kept, or moved there), weight 1;
- plain attributions of pending snapshots (weight 0.5), but only those whose raw-vector vote
  (the same kNN vote as suggestions, leaving themselves out) agrees with the attribution: a
  mis-attributed photo taught as its wrong product would teach the projection to hide exactly
  the difference QA needs to see. QA-rejected snapshots (`mismatch`) never count.
At most PER_PRODUCT snapshots of a product are used (the ones with the lowest ids, stable
across refits), so a fit stays a few seconds however large the catalog.

A refit is due when there is no projection yet (and at least two products and two
snapshots), or when the labels changed by GROWTH of what the last fit saw (at least MIN_NEW
labels), no sooner than MIN_INTERVAL after it. A fit becomes a new version: its vectors are
written beside the active version's ("MODEL+pN"), every snapshot is scored for it, and only
then is it made active, so queries never see a half-projected catalog. The version before
stays until the next activation (a process may still read it for up to a second); older
ones are deleted. A build cut short by a restart is resumed.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import structlog

from service.clock import utcnow
from service.db import Row, Session
from service.services import Services
from service.similarity.background.catchup import project_missing
from service.similarity.embedding import projection as wccn
from service.similarity.embedding.projection import Projection
from service.similarity.index import projections, store
from service.similarity.index.state import Current, similarity_for
from service.similarity.index.vectors import stack
from service.similarity.ranking import suspects
from service.similarity.ranking.suggestions import REFERENCE_NEIGHBOURS, SNAPSHOT_NEIGHBOURS
from service.similarity.ranking.votes import Neighbour, vote

log = structlog.get_logger(__name__)

WEIGHT_REFERENCE = 1.0
WEIGHT_CONFIRMED = 1.0
WEIGHT_ATTRIBUTED = 0.5
PER_PRODUCT = 200
GROWTH = 0.2
MIN_NEW = 20
MIN_INTERVAL = timedelta(seconds=60)
DELETE_BATCH = 5_000
_DELETE_MODEL = (
    "similarity_delete_model_products",
    "similarity_delete_model_snapshots",
    "similarity_delete_model_job_images",
    "similarity_delete_model_suspicion",
)
_CHUNK = 1024  # query rows per similarity block in the agreement vote


@dataclass(frozen=True, slots=True)
class Counts:
    """Labelled pictures with a raw vector, by kind of label."""

    products: int
    attributed: int
    confirmed: int

    @property
    def total(self) -> int:
        return self.products + self.attributed + self.confirmed

    @classmethod
    def read(cls, session: Session, raw_model: str) -> Counts:
        row = session.fetch_one("similarity_label_counts", {"raw_model": raw_model}) or {}
        return cls(*(int(row.get(k) or 0) for k in ("products", "attributed", "confirmed")))


def due(now: Counts, last: Counts | None, last_at: datetime | None, at: datetime) -> bool:
    """Whether a refit is due (pure: the rule in the module docstring)."""
    if last is None:
        return now.products >= 2 and now.attributed + now.confirmed >= 2
    if last_at is not None and at - last_at < MIN_INTERVAL:
        return False
    changed = abs(now.total - last.total) + abs(now.confirmed - last.confirmed)
    return changed >= max(MIN_NEW, GROWTH * last.total)


@dataclass(frozen=True, slots=True)
class TrainingSet:
    vectors: np.ndarray  # float32 (n, d) raw
    labels: np.ndarray  # int64 product ids
    weights: np.ndarray  # float64
    summary: dict[str, int]


def _agreeing(
    snapshots: np.ndarray, attributed: np.ndarray, references: np.ndarray, ref_labels: np.ndarray
) -> np.ndarray:
    """Per snapshot, whether the raw kNN vote (leaving itself out) picks its attribution."""
    out = np.zeros(len(snapshots), dtype=bool)
    k_s = min(SNAPSHOT_NEIGHBOURS, max(len(snapshots) - 1, 0))
    k_r = min(REFERENCE_NEIGHBOURS, len(references))
    for start in range(0, len(snapshots), _CHUNK):
        block = snapshots[start : start + _CHUNK]
        near_s = block @ snapshots.T
        near_s[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
        near_r = block @ references.T
        for row in range(len(block)):
            found = []
            if k_s:
                top = np.argpartition(-near_s[row], k_s - 1)[:k_s]
                found += [
                    Neighbour(int(attributed[i]), float(near_s[row, i]), "pending") for i in top
                ]
            if k_r:
                top = np.argpartition(-near_r[row], k_r - 1)[:k_r]
                found += [
                    Neighbour(int(ref_labels[i]), float(near_r[row, i]), "reference") for i in top
                ]
            ranked = vote(found)
            out[start + row] = bool(ranked) and ranked[0].product_id == attributed[start + row]
    return out


def training_set(products: list[Row], snapshots: list[Row], dimension: int) -> TrainingSet:
    """What to fit from (the rule in the module docstring). Rows: the training queries'."""
    ref_labels = np.array([row["product_id"] for row in products], dtype=np.int64)
    references = stack((row["embedding"] for row in products), dimension)
    kept: dict[int, int] = {}
    chosen = []
    for row in sorted(snapshots, key=lambda r: r["id"]):
        if kept.get(row["product_id"], 0) < PER_PRODUCT:
            kept[row["product_id"]] = kept.get(row["product_id"], 0) + 1
            chosen.append(row)
    labels = np.array([row["product_id"] for row in chosen], dtype=np.int64)
    vectors = stack((row["embedding"] for row in chosen), dimension)
    confirmed = np.array(
        [row["status"] == "match" or bool(row.get("lead_confirmed")) for row in chosen], dtype=bool
    )
    weights = np.where(confirmed, WEIGHT_CONFIRMED, WEIGHT_ATTRIBUTED)
    if len(chosen):
        units = wccn.unit(vectors)
        agree = _agreeing(units, labels, wccn.unit(references), ref_labels)
        weights = np.where(confirmed | agree, weights, 0.0)
    summary = {
        "references": len(products),
        "confirmed": int(confirmed.sum()),
        "attributed": int(((~confirmed) & (weights > 0)).sum()),
        "left_out": int((weights == 0).sum()),
    }
    return TrainingSet(
        np.concatenate([references, vectors]),
        np.concatenate([ref_labels, labels]),
        np.concatenate([np.full(len(products), WEIGHT_REFERENCE), weights]),
        summary,
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

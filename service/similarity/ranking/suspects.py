"""Suspects: snapshots whose neighbours vote for another product than their attribution.

Scoring every snapshot against every other is too much work for a request, so each
snapshot's score is stored (`snapshot_suspicion`, per model) and kept fresh in the
background: a new snapshot is scored when it is embedded, and a score is redone once the
collection has grown by a quarter since, once it is older than STALE_AFTER (neighbours' QA
status changes what they are worth), or when the attribution changed. (A quarter, not
double: on the demo catalog seeded from empty, suspect precision after the catch-up went from
0.92 to 0.98, for at most 5x instead of 2x the scoring work over the collection's growth.)
A new projection is scored in full before it becomes active (`background/refit`).
`GET /qa/suspects` and QA_PRIORITY=suspects read the table.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import numpy as np

from service.clock import utcnow
from service.db import Row, Session
from service.services import Services
from service.similarity.index.state import Current, Similarity, current_for, similarity_for
from service.similarity.index.vectors import pack, stack
from service.similarity.ranking import rerank
from service.similarity.ranking.suggestions import Evidence, decide, neighbourhoods
from service.similarity.ranking.votes import suspicion

STALE_AFTER = timedelta(hours=24)
BATCH = 256


async def evidence_for(
    services: Services,
    similarity: Similarity,
    current: Current,
    rows: list[Row],
    *,
    background: bool = True,
) -> list[Evidence]:
    """The checked vote for stored snapshots (rows with id, image_key and `embedding` of
    `current.model`), each leaving itself out."""
    vectors = stack((row["embedding"] for row in rows), similarity.embedder.dimension)
    ids: list[int | None] = [row["id"] for row in rows]
    near = await services.db.read(
        lambda session: neighbourhoods(similarity, session, current.model, vectors, ids)
    )
    queries = [
        rerank.Query(row["id"], row["image_key"], rerank.checked(n.products))
        for row, n in zip(rows, near, strict=True)
    ]
    inliers = await rerank.measure(
        services,
        similarity.matcher(services.blobs),
        queries,
        similarity.offload if background else None,
    )
    return [decide(n, found) for n, found in zip(near, inliers, strict=True)]


async def score_rows(
    services: Services, similarity: Similarity, current: Current, rows: list[Row], population: int
) -> list[dict[str, Any]]:
    """Suspicion rows (ready to insert) for stored snapshots."""
    if not rows:
        return []
    evidence = await evidence_for(services, similarity, current, rows)
    now = utcnow()
    out = []
    for row, found in zip(rows, evidence, strict=True):
        verdict = suspicion(row["product_id"], found.candidates)
        out.append(
            {
                "snapshot_id": row["id"],
                "model": current.model,
                "product_id": row["product_id"],
                "suggested_product_id": verdict.suggested_product_id,
                "suspicion": verdict.score,
                "own_share": verdict.own_share,
                "suggested_share": verdict.suggested_share,
                "population": population,
                "now": now,
            }
        )
    return out


def write_scores(session: Session, scores: list[dict[str, Any]]) -> None:
    for score in scores:
        session.execute("similarity_delete_suspicion", score)
        session.execute("similarity_insert_suspicion", score)


def _population(session: Session, model: str) -> int:
    return int(session.fetch_value("similarity_count_snapshot_embeddings", {"model": model}) or 0)


async def score_snapshot(services: Services, snapshot_id: int, vector: np.ndarray) -> None:
    """Score one (just embedded) snapshot now; `vector` is of the active model."""
    similarity = similarity_for(services)
    current = await current_for(services)

    def read(session: Session) -> tuple[list[Row], int]:
        row = session.fetch_one("similarity_snapshot", {"snapshot_id": snapshot_id})
        if row is None:
            return [], 0
        target = {**row, "embedding": pack(vector)}
        return [target], _population(session, current.model)

    rows, population = await services.db.read(read)
    scores = await score_rows(services, similarity, current, rows, population)
    if scores:
        await services.db.transaction(lambda session: write_scores(session, scores))


async def rescore(
    services: Services,
    limit: int = BATCH,
    stale_after: timedelta = STALE_AFTER,
    current: Current | None = None,
) -> int:
    """Score up to `limit` snapshots whose score for `current` (default: the active
    projection) is missing or stale; returns how many."""
    similarity = similarity_for(services)
    current = current or await current_for(services)
    stale_before = utcnow() - stale_after

    def read(session: Session) -> tuple[list[Row], int]:
        population = _population(session, current.model)
        rows = session.fetch_all(
            "similarity_snapshots_to_score",
            {
                "model": current.model,
                "population": population,
                "stale_before": stale_before,
                "limit": limit,
            },
        )
        return rows, population

    rows, population = await services.db.read(read)
    scores = await score_rows(services, similarity, current, rows, population)
    if scores:
        await services.db.transaction(lambda session: write_scores(session, scores))
    return len(scores)


async def rescore_all(
    services: Services, stale_after: timedelta = STALE_AFTER, current: Current | None = None
) -> int:
    """Rescore until nothing is missing or stale (refit, reembed, tests, quality measures)."""
    total = 0
    while done := await rescore(services, BATCH, stale_after, current):
        total += done
    return total


async def suspects(services: Services, limit: int, status: str | None = None) -> list[Row]:
    """The most suspicious snapshots, scored ones only, optionally of one QA status."""
    current = await current_for(services)
    return await services.db.fetch_all(
        "similarity_suspects",
        {"model": current.model, "status": status or "", "limit": limit},
    )


def suspect_ids(session: Session, model: str, limit: int) -> list[int]:
    """Snapshot ids, most suspicious first (sync: usable inside another transaction)."""
    rows = session.fetch_all("similarity_suspects", {"model": model, "status": "", "limit": limit})
    return [row["snapshot_id"] for row in rows]

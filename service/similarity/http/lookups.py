"""The similarity API's domain side: find neighbours, check them, vote, shape the answers.

Every lookup reads the active projection once (`current_for`) and uses that model for all
its vectors. Suggestions and search re-rank the nearest reference images by the geometric
check (`ranking/rerank`), a stored snapshot's inliers coming from the pair cache.
"""

from __future__ import annotations

import asyncio

import numpy as np

from service.clock import as_utc
from service.db import Row, Session
from service.errors import NotFound, Unavailable
from service.services import Services
from service.similarity import hooks
from service.similarity.embedding.decode import embed_bytes
from service.similarity.http.models import (
    ProductBrief,
    SearchResults,
    SimilarProduct,
    SimilarProducts,
    SimilarSnapshot,
    SimilarSnapshots,
    Suggestion,
    Suggestions,
    Suspect,
)
from service.similarity.index import knn, store
from service.similarity.index.state import Current, Similarity, current_for, similarity_for
from service.similarity.ranking import rerank, suspects
from service.similarity.ranking.suggestions import Evidence, decide, neighbourhoods


async def _snapshot(services: Services, snapshot_id: int) -> Row:
    row = await services.db.fetch_one("similarity_snapshot", {"snapshot_id": snapshot_id})
    if row is None:
        raise NotFound(f"no snapshot with id {snapshot_id}")
    return row


async def _product(services: Services, upc: str) -> Row:
    row = await services.db.fetch_one("similarity_product_by_upc", {"upc": upc})
    if row is None:
        raise NotFound(f"no product with UPC {upc}")
    return row


async def _vector(services: Services, current: Current, kind: str, row: Row) -> np.ndarray:
    """The stored vector of `current`, or the stored raw one projected now, or one made now
    from the stored image (and then stored)."""

    def read(session: Session) -> tuple[np.ndarray | None, np.ndarray | None]:
        found = store.stored_vector(session, kind, row["id"], current.model)
        if found is not None or not current.version:
            return found, None
        return None, store.stored_vector(session, kind, row["id"], current.raw_model)

    vector, raw = await services.db.read(read)
    if vector is not None:
        return vector
    if raw is not None:
        return current.project(raw)
    image = await asyncio.to_thread(services.blobs.get, row["image_key"])
    embed = hooks.embed_snapshot if kind == "snapshot" else hooks.embed_product
    if not await embed(services, row["id"], image):
        raise Unavailable(f"the {kind}'s image could not be embedded; retry later")
    vector, raw = await services.db.read(read)
    if vector is None and raw is None:  # pragma: no cover - embedded a moment ago
        raise Unavailable(f"the {kind}'s embedding is not available yet; retry later")
    return vector if vector is not None else current.project(raw)


def _similar_snapshot(services: Services, row: Row) -> SimilarSnapshot:
    return SimilarSnapshot(
        snapshot_id=row["snapshot_id"],
        score=float(row["score"]),
        product=ProductBrief(row["product_id"], row["product_upc"], row["product_name"]),
        image_url=services.blobs.url(row["image_key"]),
        status=row["status"],
    )


def _similar_product(services: Services, row: Row) -> SimilarProduct:
    return SimilarProduct(
        id=row["product_id"],
        upc=row["upc"],
        name=row["name"],
        image_url=services.blobs.url(row["image_key"]),
        score=float(row.get("cosine", row["score"])),
        inliers=row.get("inliers"),
    )


def _suggestions(
    services: Services, session: Session, evidence: Evidence, k: int, attributed: int | None
) -> list[Suggestion]:
    known = {row["product_id"]: row for row in evidence.products}
    cosines: dict[int, float] = {}
    for row in [*evidence.snapshots, *evidence.products]:
        value = float(row.get("cosine", row["score"]))
        cosines[row["product_id"]] = max(cosines.get(row["product_id"], -1.0), value)
    out = []
    for candidate in evidence.ranked(k):
        product = known.get(candidate.product_id) or session.fetch_one(
            "similarity_product", {"product_id": candidate.product_id}
        )
        if product is None:
            continue
        out.append(
            Suggestion(
                id=candidate.product_id,
                upc=product["upc"],
                name=product["name"],
                image_url=services.blobs.url(product["image_key"]),
                score=round(candidate.share, 6),
                similarity=round(cosines.get(candidate.product_id, candidate.best_score), 6),
                attributed=candidate.product_id == attributed,
                inliers=known.get(candidate.product_id, {}).get("inliers"),
            )
        )
    return out


async def similar_snapshots(services: Services, snapshot_id: int, k: int) -> SimilarSnapshots:
    similarity = similarity_for(services)
    current = await current_for(services)
    row = await _snapshot(services, snapshot_id)
    vector = await _vector(services, current, "snapshot", row)
    rows = await services.db.read(
        lambda session: knn.nearest(
            similarity, session, "snapshot", current.model, vector[None, :], k, [snapshot_id]
        )[0]
    )
    return SimilarSnapshots(
        snapshot_id, current.model, [_similar_snapshot(services, r) for r in rows]
    )


async def suggestions(services: Services, snapshot_id: int, k: int) -> Suggestions:
    similarity = similarity_for(services)
    current = await current_for(services)
    row = await _snapshot(services, snapshot_id)
    vector = await _vector(services, current, "snapshot", row)
    near = (
        await services.db.read(
            lambda session: neighbourhoods(
                similarity, session, current.model, vector[None, :], [snapshot_id], k
            )
        )
    )[0]
    query = rerank.Query(snapshot_id, row["image_key"], rerank.checked(near.products))
    (inliers,) = await rerank.measure(services, similarity.matcher(services.blobs), [query])
    evidence = decide(near, inliers)
    return Suggestions(
        snapshot_id=snapshot_id,
        model=current.model,
        product=ProductBrief(row["product_id"], row["product_upc"], row["product_name"]),
        suggestions=await services.db.read(
            lambda session: _suggestions(services, session, evidence, k, row["product_id"])
        ),
    )


async def similar_products(services: Services, upc: str, k: int) -> SimilarProducts:
    similarity = similarity_for(services)
    current = await current_for(services)
    row = await _product(services, upc)
    vector = await _vector(services, current, "product", row)
    rows = await services.db.read(
        lambda session: knn.nearest(
            similarity, session, "product", current.model, vector[None, :], k, [row["id"]]
        )[0]
    )
    return SimilarProducts(upc, current.model, [_similar_product(services, r) for r in rows])


def _upload_inliers(matcher: rerank.Matcher, image: bytes, references: list) -> dict[int, int]:
    return matcher.inliers(matcher.features(image), references)


async def search(services: Services, image: bytes, k: int) -> SearchResults:
    """Neighbours of an uploaded photo (already checked to be an acceptable image): its
    nearest reference images re-ranked by the geometric check, then the vote."""
    similarity = similarity_for(services)
    current = await current_for(services)
    raw = await asyncio.to_thread(embed_bytes, similarity.embedder, similarity.max_pixels, image)
    vector = current.project(raw)
    near = (
        await services.db.read(
            lambda session: neighbourhoods(
                similarity, session, current.model, vector[None, :], references=k
            )
        )
    )[0]
    matcher = similarity.matcher(services.blobs)
    inliers = await asyncio.to_thread(
        _upload_inliers, matcher, image, rerank.checked(near.products)
    )
    evidence = decide(near, inliers)

    def work(session: Session) -> SearchResults:
        return SearchResults(
            model=current.model,
            suggestions=_suggestions(services, session, evidence, k, None),
            products=[_similar_product(services, r) for r in evidence.products[:k]],
            snapshots=[
                _similar_snapshot(services, r)
                for r in _top_snapshots(similarity, session, current, vector, k, evidence)
            ],
        )

    return await services.db.read(work)


def _top_snapshots(
    similarity: Similarity,
    session: Session,
    current: Current,
    vector: np.ndarray,
    k: int,
    evidence: Evidence,
) -> list[Row]:
    if k <= len(evidence.snapshots):
        return evidence.snapshots[:k]
    return knn.nearest(similarity, session, "snapshot", current.model, vector[None, :], k)[0]


async def suspect_list(services: Services, limit: int, status: str | None) -> list[Suspect]:
    rows = await suspects.suspects(services, limit, status)
    return [
        Suspect(
            snapshot_id=row["snapshot_id"],
            image_url=services.blobs.url(row["image_key"]),
            status=row["status"],
            product=ProductBrief(row["product_id"], row["product_upc"], row["product_name"]),
            suggested_product=(
                ProductBrief(
                    row["suggested_product_id"], row["suggested_upc"], row["suggested_name"]
                )
                if row["suggested_product_id"] is not None and row["suggested_upc"] is not None
                else None
            ),
            score=round(float(row["suspicion"]), 6),
            own_share=round(float(row["own_share"]), 6),
            suggested_share=round(float(row["suggested_share"]), 6),
            scored_at=as_utc(row["scored_at"]),
        )
        for row in rows
    ]

"""Re-ranking the nearest reference images by the geometric check (`geometry`).

The CHECKED nearest reference images of a query are each matched against it; a reference's
similarity gains WEIGHT x min(inliers, CAP) / CAP before the vote (`suggestions.decide`), so a
packshot whose artwork really appears in the photo overtakes a look-alike that is only near
in embedding space. On grocery-train, cross-validated (`scripts/ablate_recognition.py`), it
took packshot search for products the projection never saw from 0.60 to 0.84 and the top
suggestion from 0.967 to 0.973. WEIGHT and CAP were chosen there (0.3/40 to 1.0/80 tried:
about 0.009 per inlier up to 80 kept the top suggestion and helped new products most).

Pictures never change, so a snapshot's inliers with a product are measured once and kept in
`snapshot_matches` (per matcher): a refit rescoring every snapshot reads them back. Reference
pictures' local features are kept in memory per process (`Matcher`, least recently used).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from service.db import Row, Session
from service.services import Services
from service.similarity.embedding.decode import decode
from service.similarity.ranking import geometry
from service.similarity.ranking.geometry import LocalFeatures

CHECKED = 10  # nearest reference images the check looks at
WEIGHT = 0.7  # what full geometric agreement adds to a cosine similarity
CAP = 80  # inliers that count as full agreement
REFERENCE_CACHE_BYTES = 64 * 1024 * 1024  # about 500 references' features


def boost(products: Sequence[Row], inliers: Mapping[int, int]) -> list[Row]:
    """The reference rows re-ranked: each checked one's `score` raised by its inliers (the
    cosine kept as `cosine`, the count as `inliers`), best first."""
    out = []
    for rank, row in enumerate(products):
        found = inliers.get(row["product_id"]) if rank < CHECKED else None
        cosine = float(row["score"])
        score = cosine + WEIGHT * min(found, CAP) / CAP if found is not None else cosine
        out.append({**row, "score": score, "cosine": cosine, "inliers": found})
    out.sort(key=lambda r: (-r["score"], r["product_id"]))
    return out


def checked(products: Sequence[Row]) -> list[tuple[int, str]]:
    """(product id, image key) of the references the check looks at."""
    return [(row["product_id"], row["image_key"]) for row in products[:CHECKED]]


@dataclass(frozen=True, slots=True)
class Query:
    """One picture to check against references: a stored snapshot (its inliers cached by
    id) or an upload (`snapshot_id` None)."""

    snapshot_id: int | None
    image_key: str | None
    references: list[tuple[int, str]]  # (product id, image key)


class Matcher:
    """Inliers of query pictures against reference pictures, the references' local
    features kept in memory (least recently used first out)."""

    def __init__(self, read: Callable[[str], bytes], max_pixels: int) -> None:
        self._read = read
        self._max_pixels = max_pixels
        self._cache: OrderedDict[str, LocalFeatures] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def features(self, data: bytes) -> LocalFeatures:
        return geometry.local_features(decode(data, self._max_pixels, geometry.SIDE))

    def reference(self, key: str) -> LocalFeatures:
        with self._lock:
            found = self._cache.get(key)
            if found is not None:
                self._cache.move_to_end(key)
                return found
        found = self.features(self._read(key))
        with self._lock:
            if key not in self._cache:
                self._cache[key] = found
                self._bytes += found.nbytes
                while self._bytes > REFERENCE_CACHE_BYTES and len(self._cache) > 1:
                    _, dropped = self._cache.popitem(last=False)
                    self._bytes -= dropped.nbytes
        return found

    def inliers(
        self, query: LocalFeatures, references: Iterable[tuple[int, str]]
    ) -> dict[int, int]:
        """Per product id; a reference picture that cannot be read is left out (unchecked,
        and tried again next time)."""
        out = {}
        for product_id, key in references:
            try:
                reference = self.reference(key)
            except Exception:  # an unreadable reference must not fail the query
                continue
            out[product_id] = geometry.inliers(query, reference)
        return out

    def match_stored(self, queries: Sequence[Query]) -> list[dict[int, int]]:
        """Inliers of stored pictures (read by key) against their references; an unreadable
        query picture gets {} (and is tried again next time)."""
        out: list[dict[int, int]] = []
        for query in queries:
            if not query.references or query.image_key is None:
                out.append({})
                continue
            try:
                features = self.features(self._read(query.image_key))
            except Exception:
                out.append({})
                continue
            out.append(self.inliers(features, query.references))
        return out


def read_cached(session: Session, queries: Sequence[Query]) -> list[dict[int, int]]:
    """What the pair cache knows of each query's references."""
    out = []
    for query in queries:
        known: dict[int, int] = {}
        if query.snapshot_id is not None:
            wanted = {pid for pid, _ in query.references}
            rows = session.fetch_all(
                "similarity_cached_matches",
                {"snapshot_id": query.snapshot_id, "matcher": geometry.MATCHER},
            )
            known = {r["product_id"]: int(r["inliers"]) for r in rows if r["product_id"] in wanted}
        out.append(known)
    return out


def write_cached(session: Session, queries: Sequence[Query], found: Sequence[dict]) -> None:
    for query, inliers in zip(queries, found, strict=True):
        if query.snapshot_id is None:
            continue
        for product_id, count in inliers.items():
            session.execute(
                "similarity_insert_match",
                {
                    "snapshot_id": query.snapshot_id,
                    "product_id": product_id,
                    "matcher": geometry.MATCHER,
                    "inliers": count,
                },
            )


async def measure(
    services: Services, matcher: Matcher, queries: Sequence[Query], offload: object | None = None
) -> list[dict[int, int]]:
    """Inliers of each query with its references: the pair cache first, the rest measured
    (in the embedding process when `offload` is given, else in a thread) and cached."""
    known = await services.db.read(lambda session: read_cached(session, queries))
    todo = [
        (index, Query(q.snapshot_id, q.image_key, [r for r in q.references if r[0] not in seen]))
        for index, (q, seen) in enumerate(zip(queries, known, strict=True))
        if any(r[0] not in seen for r in q.references)
    ]
    if todo:
        pending = [query for _, query in todo]
        if offload is not None:
            found = await offload.match_stored(pending)  # type: ignore[attr-defined]
        else:
            found = await asyncio.to_thread(matcher.match_stored, pending)
        if any(found):
            await services.db.transaction(lambda session: write_cached(session, pending, found))
        for (index, _), inliers in zip(todo, found, strict=True):
            known[index] = {**known[index], **inliers}
    return known

"""Embed stored images that lack an embedding of the current model, in keyset batches.

Shared by the background worker (images stored before the hooks ran, or whose hook failed)
and by `python -m service reembed` (every image, for a new model). Both are resumable: what
is embedded is no longer missing, so a rerun picks up where the last one stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.clock import utcnow
from service.services import Services
from service.similarity import store
from service.similarity.state import similarity_for

# kind -> (missing-rows query, count query, blob key column)
_MISSING = {
    "product": ("similarity_products_missing", "similarity_count_products_missing", "image_key"),
    "snapshot": (
        "similarity_snapshots_missing",
        "similarity_count_snapshots_missing",
        "image_key",
    ),
    "job_image": (
        "similarity_job_images_missing",
        "similarity_count_job_images_missing",
        "blob_key",
    ),
}


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where a pass over one kind has got to (ids are positive, so zeros mean the start)."""

    after_id: int = 0
    after_job: int = 0
    after_seq: int = 0

    def params(self) -> dict[str, int]:
        return {"after_id": self.after_id, "after_job": self.after_job, "after_seq": self.after_seq}


@dataclass(frozen=True, slots=True)
class Progress:
    embedded: int
    failed: int
    cursor: Cursor
    more: bool  # the batch was full: there may be more after `cursor`


def _key(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    return (
        {"job_id": row["job_id"], "seq": row["seq"]} if kind == "job_image" else {"id": row["id"]}
    )


def _next(kind: str, row: dict[str, Any]) -> Cursor:
    if kind == "job_image":
        return Cursor(after_job=row["job_id"], after_seq=row["seq"])
    return Cursor(after_id=row["id"])


async def count_missing(services: Services, kind: str) -> int:
    model = similarity_for(services).model
    return int(await services.db.fetch_value(_MISSING[kind][1], {"model": model}) or 0)


async def embed_missing(
    services: Services, kind: str, cursor: Cursor = Cursor(), limit: int = 64
) -> Progress:
    """Embed up to `limit` images of `kind` after `cursor` that lack an embedding."""
    similarity = similarity_for(services)
    query, _, key_column = _MISSING[kind]
    rows = await services.db.fetch_all(
        query, {"model": similarity.model, "limit": limit, **cursor.params()}
    )
    if not rows:
        return Progress(0, 0, cursor, more=False)
    vectors = await store.embed_blobs(services, similarity, [row[key_column] for row in rows])
    done = [(row, vector) for row, vector in zip(rows, vectors, strict=True) if vector is not None]

    def save(session) -> None:  # type: ignore[no-untyped-def]
        now = utcnow()
        for row, vector in done:
            store.save_embedding(session, similarity, kind, _key(kind, row), vector, now)

    if done:
        await services.db.transaction(save)
    return Progress(len(done), len(rows) - len(done), _next(kind, rows[-1]), len(rows) == limit)

"""Embed stored images that lack an embedding of the current model, a batch at a time.

Shared by the background worker (images stored before the hooks ran, or whose hook failed)
and by `python -m service reembed` (every image, for a new model). Work is found as "rows
still missing an embedding", never by id order: SingleStore's AUTO_INCREMENT ids are unique
but not monotonic across aggregators, so an id cursor could pass over a row inserted at the
same time through another aggregator. Both are resumable: what is embedded is no longer
missing, so a rerun picks up where the last one stopped.

An image that cannot be read or decoded stays missing; the caller keeps its key in a `skip`
set so the next batch looks past it (fetching `limit + len(skip)` rows), and clears the set
to try such images again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.clock import utcnow
from service.services import Services
from service.similarity.index import store
from service.similarity.index.state import similarity_for

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

Key = tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Progress:
    embedded: int
    failed: int  # newly failed in this batch (now in the skip set)
    more: bool  # the batch found rows to work on: there may be more


def _key(kind: str, row: dict[str, Any]) -> dict[str, Any]:
    return (
        {"job_id": row["job_id"], "seq": row["seq"]} if kind == "job_image" else {"id": row["id"]}
    )


def _skip_key(kind: str, row: dict[str, Any]) -> Key:
    return tuple(_key(kind, row).values())


async def count_missing(services: Services, kind: str) -> int:
    model = similarity_for(services).model
    return int(await services.db.fetch_value(_MISSING[kind][1], {"model": model}) or 0)


async def embed_missing(
    services: Services, kind: str, skip: set[Key] | None = None, limit: int = 64
) -> Progress:
    """Embed up to `limit` images of `kind` that lack an embedding, passing over the keys in
    `skip`; the keys of images that fail are added to it."""
    skip = set() if skip is None else skip
    similarity = similarity_for(services)
    query, _, key_column = _MISSING[kind]
    found = await services.db.fetch_all(
        query, {"model": similarity.model, "limit": limit + len(skip)}
    )
    rows = [row for row in found if _skip_key(kind, row) not in skip][:limit]
    if not rows:
        return Progress(0, 0, more=False)
    vectors = await store.embed_blobs(services, similarity, [row[key_column] for row in rows])
    done = [(row, vector) for row, vector in zip(rows, vectors, strict=True) if vector is not None]
    failed = [row for row, vector in zip(rows, vectors, strict=True) if vector is None]
    skip.update(_skip_key(kind, row) for row in failed)

    def save(session) -> None:  # type: ignore[no-untyped-def]
        now = utcnow()
        for row, vector in done:
            store.save_embedding(session, similarity, kind, _key(kind, row), vector, now)

    if done:
        await services.db.transaction(save)
    return Progress(len(done), len(failed), more=True)

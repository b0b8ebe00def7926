"""Keep every stored image's vectors complete, a batch at a time.

Two kinds of work, shared by the background worker and `python -m service reembed`:

- `embed_missing`: images without a raw vector of the embedder's model (images stored before
  the hooks ran, or whose hook failed, or every image after a model change). Each is decoded
  and embedded, and saved with its projection by the active version.
- `project_missing`: raw vectors without a projected one of a version (the active one, or
  one being built): no picture is decoded, a batch is one matrix product.

Store-visit images are embedded only as far as EMBED_JOB_IMAGES asks (all, none, or a
fraction, chosen by a hash of (job, seq) so a restart picks the same ones), and with one view
at reduced size (`fast`): a phone photo costs a 1/8 JPEG decode.

Work is found as "rows still missing", never by id order: SingleStore's AUTO_INCREMENT ids are
unique but not monotonic across aggregators, so an id cursor could pass over a row inserted
at the same time through another aggregator. Both are resumable. An image that cannot be
read or decoded stays missing; the caller keeps its key in a `skip` set so the next batch
looks past it (fetching `limit + len(skip)` rows), and clears the set to try again later.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import structlog

from service.clock import utcnow
from service.db import Session
from service.services import Services
from service.similarity.embedding.decode import Result, embed_stored
from service.similarity.index import store
from service.similarity.index.state import Current, current_for, similarity_for
from service.similarity.index.vectors import stack

log = structlog.get_logger(__name__)

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
_UNPROJECTED = {
    "product": ("similarity_products_unprojected", "similarity_count_products_unprojected"),
    "snapshot": ("similarity_snapshots_unprojected", "similarity_count_snapshots_unprojected"),
    "job_image": ("similarity_job_images_unprojected", "similarity_count_job_images_unprojected"),
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


def job_image_share(services: Services) -> int:
    """EMBED_JOB_IMAGES as per mille of job images (1000: all)."""
    return round(services.settings.embed_job_images * 1000)


def _params(services: Services, kind: str, model: str) -> dict[str, Any]:
    params: dict[str, Any] = {"model": model}
    if kind == "job_image":
        params["per_mille"] = job_image_share(services)
    return params


async def count_missing(services: Services, kind: str) -> int:
    """Images of `kind` still to embed (job images: of the EMBED_JOB_IMAGES sample)."""
    if kind == "job_image" and job_image_share(services) == 0:
        return 0
    params = _params(services, kind, similarity_for(services).raw_model)
    return int(await services.db.fetch_value(_MISSING[kind][1], params) or 0)


def note_failures(keys: list[str], results: list[Result]) -> None:
    for key, (_, error) in zip(keys, results, strict=True):
        if error is not None:
            log.warning("image not embedded", blob_key=key, error=error)


def save(session: Session, dialect: str, current: Current, kind: str, key: dict, raw: Any) -> None:
    """A raw vector and, when a projection is active, its projection (one transaction)."""
    now = utcnow()
    store.save_embedding(session, dialect, kind, key, current.raw_model, raw, now)
    if current.version:
        store.save_embedding(session, dialect, kind, key, current.model, current.project(raw), now)


async def embed_missing(
    services: Services, kind: str, skip: set[Key] | None = None, limit: int = 64
) -> Progress:
    """Embed up to `limit` images of `kind` that lack a raw vector, passing over the keys in
    `skip`; the keys of images that fail are added to it."""
    skip = set() if skip is None else skip
    if kind == "job_image" and job_image_share(services) == 0:
        return Progress(0, 0, more=False)
    similarity = similarity_for(services)
    query, _, key_column = _MISSING[kind]
    params = {**_params(services, kind, similarity.raw_model), "limit": limit + len(skip)}
    found = await services.db.fetch_all(query, params)
    rows = [row for row in found if _skip_key(kind, row) not in skip][:limit]
    if not rows:
        return Progress(0, 0, more=False)
    keys = [row[key_column] for row in rows]
    fast = kind == "job_image"
    if similarity.offload is not None:
        results = await similarity.offload.embed_blobs(keys, fast)  # type: ignore[attr-defined]
    else:
        results = await asyncio.to_thread(
            embed_stored, similarity.embedder, similarity.max_pixels, services.blobs.get, keys, fast
        )
    note_failures(keys, results)
    done = [
        (row, vector) for row, (vector, _) in zip(rows, results, strict=True) if vector is not None
    ]
    failed = [row for row, (vector, _) in zip(rows, results, strict=True) if vector is None]
    skip.update(_skip_key(kind, row) for row in failed)
    if done:
        current = await current_for(services)

        def write(session: Session) -> None:
            for row, vector in done:
                save(session, similarity.dialect, current, kind, _key(kind, row), vector)

        await services.db.transaction(write)
    return Progress(len(done), len(failed), more=True)


async def count_unprojected(services: Services, kind: str, current: Current) -> int:
    if not current.version:
        return 0
    params = {"model": current.model, "raw_model": current.raw_model}
    return int(await services.db.fetch_value(_UNPROJECTED[kind][1], params) or 0)


async def project_missing(services: Services, kind: str, current: Current, limit: int = 512) -> int:
    """Project up to `limit` raw vectors of `kind` that lack a `current` projection; returns
    how many were written."""
    if not current.version:
        return 0
    similarity = similarity_for(services)
    params = {"model": current.model, "raw_model": current.raw_model, "limit": limit}
    rows = await services.db.fetch_all(_UNPROJECTED[kind][0], params)
    if not rows:
        return 0
    raw = stack((row["embedding"] for row in rows), similarity.embedder.dimension)
    projected = await asyncio.to_thread(current.project, raw)

    def write(session: Session) -> None:
        now = utcnow()
        for row, vector in zip(rows, projected, strict=True):
            key = _key(kind, row)
            store.save_embedding(session, similarity.dialect, kind, key, current.model, vector, now)

    await services.db.transaction(write)
    return len(rows)

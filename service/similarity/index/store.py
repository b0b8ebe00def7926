"""Embeddings in and out of the database, and images in and out of the embedder.

Three kinds of stored image have embeddings: `product` (reference images, keyed by product
id), `snapshot` (keyed by snapshot id) and `job_image` (store-visit images, keyed by job id
and sequence number). Decoding and embedding are CPU-bound and run in a worker thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
import structlog
from PIL import Image

from service.clock import utcnow
from service.db import Session
from service.services import Services
from service.similarity.embedding.embedders import decode, embed_stored
from service.similarity.index.state import Similarity
from service.similarity.index.vectors import pack, unpack

log = structlog.get_logger(__name__)

KINDS = ("product", "snapshot", "job_image")
# kinds whose writes the SQLite matrices must hear about
_VERSIONED = {"product", "snapshot"}

ImageInput = bytes | Image.Image


def save_embedding(
    session: Session,
    similarity: Similarity,
    kind: str,
    key: dict[str, Any],
    vector: np.ndarray,
    now: datetime | None = None,
) -> bool:
    """Insert or replace one embedding of the current model; True if it was new.

    `key` is {"id": ...} for products and snapshots, {"job_id": ..., "seq": ...} for job
    images. Insert-then-update rather than an upsert so that the SQLite matrices learn
    whether the table grew (read incrementally) or changed (reloaded)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    params = {**key, "model": similarity.model, "embedding": pack(vector), "now": now or utcnow()}
    inserted = session.execute(f"similarity_insert_{kind}_embedding", params).rowcount > 0
    if not inserted and kind in _VERSIONED:
        # The upload hook and the catch-up often embed the same new image: the same model
        # gives the same vector, and rewriting it would make every SQLite matrix reload.
        stored = stored_vector(session, similarity, kind, key["id"])
        if stored is not None and pack(stored) == params["embedding"]:
            return False
    if not inserted:
        session.execute(f"similarity_update_{kind}_embedding", params)
    if similarity.dialect == "sqlite" and kind in _VERSIONED:
        session.execute(
            "similarity_bump_version",
            {"kind": kind, "appends": int(inserted), "rewrites": int(not inserted)},
        )
    return inserted


def note_rewrite(session: Session, similarity: Similarity, kind: str) -> None:
    """After deleting embeddings of `kind`: make the SQLite matrices reload."""
    if similarity.dialect == "sqlite" and kind in _VERSIONED:
        session.execute("similarity_bump_version", {"kind": kind, "appends": 0, "rewrites": 1})


def stored_vector(
    session: Session, similarity: Similarity, kind: str, id_: int
) -> np.ndarray | None:
    """The current model's stored embedding of a product or snapshot, if any."""
    value = session.fetch_value(
        f"similarity_{kind}_embedding", {f"{kind}_id": id_, "model": similarity.model}
    )
    return None if value is None else unpack(value)


def _decode(similarity: Similarity, image: ImageInput) -> Image.Image:
    if isinstance(image, Image.Image):
        return image
    return decode(image, similarity.max_pixels, similarity.embedder.work_size)


def _embed_now(similarity: Similarity, images: Sequence[ImageInput]) -> np.ndarray:
    return similarity.embedder.embed([_decode(similarity, image) for image in images])


async def embed(similarity: Similarity, images: Sequence[ImageInput]) -> np.ndarray:
    """Embed images (bytes or decoded) off the event loop."""
    return await asyncio.to_thread(_embed_now, similarity, images)


async def embed_blobs(
    services: Services, similarity: Similarity, keys: Sequence[str]
) -> list[np.ndarray | None]:
    """Fetch and embed stored images in one batch; None for one that cannot be read or
    decoded. In the embedding process when this process has one (see `offload`), else in a
    thread."""
    if similarity.offload is not None:
        return await similarity.offload.embed_blobs(keys)
    results = await asyncio.to_thread(
        embed_stored, similarity.embedder, similarity.max_pixels, services.blobs.get, keys
    )
    return note_failures(keys, results)


def note_failures(
    keys: Sequence[str], results: Sequence[tuple[np.ndarray | None, str | None]]
) -> list[np.ndarray | None]:
    """The vectors; each image that has none is logged with why."""
    for key, (_, error) in zip(keys, results, strict=True):
        if error is not None:
            log.warning("image not embedded", blob_key=key, error=error)
    return [vector for vector, _ in results]

"""Embeddings in and out of the database.

Three kinds of stored image have embeddings: `product` (reference images, keyed by product
id), `snapshot` (keyed by snapshot id) and `job_image` (store-visit images, keyed by job id
and sequence number). Each image has a row per model: its raw vector (the embedder's model)
and, once a projection is active, its projected vector ("MODEL+pN", see `projections`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from service.clock import utcnow
from service.db import Session
from service.similarity.index.vectors import pack, unpack

KINDS = ("product", "snapshot", "job_image")
# kinds whose writes the SQLite matrices must hear about
_VERSIONED = {"product", "snapshot"}
_INSERT = {
    "product": "similarity_insert_product_embedding",
    "snapshot": "similarity_insert_snapshot_embedding",
    "job_image": "similarity_insert_job_image_embedding",
}
_UPDATE = {
    "product": "similarity_update_product_embedding",
    "snapshot": "similarity_update_snapshot_embedding",
    "job_image": "similarity_update_job_image_embedding",
}
_READ = {
    "product": "similarity_product_embedding",
    "snapshot": "similarity_snapshot_embedding",
}


def save_embedding(
    session: Session,
    dialect: str,
    kind: str,
    key: dict[str, Any],
    model: str,
    vector: np.ndarray,
    now: datetime | None = None,
) -> bool:
    """Insert or replace one embedding of `model`; True if it was new.

    `key` is {"id": ...} for products and snapshots, {"job_id": ..., "seq": ...} for job
    images. Insert-then-update rather than an upsert so that the SQLite matrices learn
    whether the table grew (read incrementally) or changed (reloaded)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    params = {**key, "model": model, "embedding": pack(vector), "now": now or utcnow()}
    inserted = session.execute(_INSERT[kind], params).rowcount > 0
    if not inserted and kind in _VERSIONED:
        # The upload hook and the catch-up often embed the same new image: the same model
        # gives the same vector, and rewriting it would make every SQLite matrix reload.
        stored = stored_vector(session, kind, key["id"], model)
        if stored is not None and pack(stored) == params["embedding"]:
            return False
    if not inserted:
        session.execute(_UPDATE[kind], params)
    if dialect == "sqlite" and kind in _VERSIONED:
        session.execute(
            "similarity_bump_version",
            {"kind": kind, "appends": int(inserted), "rewrites": int(not inserted)},
        )
    return inserted


def note_rewrite(session: Session, dialect: str, kind: str) -> None:
    """After deleting embeddings of `kind`: make the SQLite matrices reload."""
    if dialect == "sqlite" and kind in _VERSIONED:
        session.execute("similarity_bump_version", {"kind": kind, "appends": 0, "rewrites": 1})


def stored_vector(session: Session, kind: str, id_: int, model: str) -> np.ndarray | None:
    """A product's or snapshot's stored embedding of `model`, if any."""
    value = session.fetch_value(_READ[kind], {f"{kind}_id": id_, "model": model})
    return None if value is None else unpack(value)

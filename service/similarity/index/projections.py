"""Projection versions in the database: which one queries use, and the models they name.

A base model's raw vectors (the embedder's `model`, say "efficientnet-lite0:2.1") are stored
as they are, and again projected by the active projection under "BASE+pN". Version 0 is no
projection at all: its vectors are the raw rows themselves, so nothing is written twice
before the first fit. The fitted matrix lives in the blob store (content-addressed, its
sha256 in the row); the row's `phase` moves building -> active -> retired.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from service.db import Row, Session
from service.similarity.embedding.projection import Projection
from service.storage import BlobStore


class ProjectionError(RuntimeError):
    """A stored projection is missing or does not match its digest."""


def projected_model(base_model: str, version: int) -> str:
    """The `model` under which vectors projected with `version` are stored."""
    return base_model if version == 0 else f"{base_model}+p{version}"


def active(session: Session, base_model: str) -> Row | None:
    return session.fetch_one("similarity_active_projection", {"base_model": base_model})


def listing(session: Session, base_model: str) -> list[Row]:
    """Every version, newest first."""
    return session.fetch_all("similarity_projections", {"base_model": base_model})


def next_version(session: Session, base_model: str) -> int:
    rows = listing(session, base_model)
    return (int(rows[0]["version"]) + 1) if rows else 1


def save(blobs: BlobStore, projection: Projection) -> tuple[str, str]:
    """Store the matrix; (blob key, digest)."""
    data = projection.to_bytes()
    return blobs.put(data, "npz", "application/octet-stream"), projection.digest()


def load(blobs: BlobStore, blob_key: str, digest: str) -> Projection:
    data = blobs.get(blob_key)
    projection = Projection.from_bytes(data)
    if projection.digest() != digest:
        raise ProjectionError(f"projection {blob_key} does not match its digest")
    return projection


def record(
    session: Session,
    base_model: str,
    version: int,
    blob_key: str,
    digest: str,
    trained_on: dict[str, Any],
    now: datetime,
) -> None:
    session.execute(
        "similarity_insert_projection",
        {
            "base_model": base_model,
            "version": version,
            "blob_key": blob_key,
            "digest": digest,
            "trained_on": json.dumps(trained_on, sort_keys=True),
            "now": now,
        },
    )


def activate(session: Session, base_model: str, version: int, now: datetime) -> bool:
    """Make `version` the one queries use (in the caller's transaction); False if it is no
    longer being built (another process activated or abandoned it)."""
    params = {"base_model": base_model, "version": version, "now": now}
    if session.execute("similarity_activate_projection", params).rowcount != 1:
        return False
    session.execute("similarity_retire_projections", params)
    return True

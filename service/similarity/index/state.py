"""What similarity keeps per open database: the embedder, the active projection and, on
SQLite, the vector matrices.

Reached through `similarity_for(services)`, so hooks and handlers need nothing but the
`Services` they already get; it lives exactly as long as the `Database` it belongs to.

Which projection is active is read from the database at most every CURRENT_TTL seconds,
inside the caller's session: every process of the service follows a refit within a second,
and a request uses one `Current` from start to end, so all its vectors are of one model.
"""

from __future__ import annotations

import threading
import time
import weakref
from dataclasses import dataclass, field

import numpy as np

from service.config import Settings
from service.db import Database, Session
from service.services import Services
from service.similarity.embedding.embedders import Embedder, create_embedder
from service.similarity.embedding.projection import Projection
from service.similarity.index import projections
from service.similarity.index.matrix import VectorMatrix
from service.similarity.ranking.rerank import Matcher
from service.storage import BlobStore

# When the shared SQL would make fewer DOT_PRODUCT calls than this (rows x query vectors), the
# SQLite engine runs it (a Python call per row is fast enough there); from it on, the
# in-process matrix answers.
MATRIX_MIN_ROWS = 500
CURRENT_TTL = 1.0  # seconds a read of the active projection is reused


@dataclass(frozen=True, slots=True)
class Current:
    """The vectors queries compare now: `raw_model`'s, projected by `projection`."""

    raw_model: str
    projection: Projection

    @property
    def version(self) -> int:
        return self.projection.version

    @property
    def model(self) -> str:
        return projections.projected_model(self.raw_model, self.projection.version)

    def project(self, raw: np.ndarray) -> np.ndarray:
        return self.projection.apply(raw)


@dataclass
class Similarity:
    embedder: Embedder
    dialect: str
    max_pixels: int
    matrix_min_rows: int = MATRIX_MIN_ROWS
    # SQLite only: (kind, model) -> the vectors in memory (knn.py)
    matrices: dict[tuple[str, str], VectorMatrix] = field(default_factory=dict)
    # Where the background catch-up embeds stored images (see background/offload); None: here.
    offload: object | None = None
    # SingleStore: embeddings per (kind, model), with when they were counted (knn.py).
    populations: dict[tuple[str, str], tuple[float, int]] = field(default_factory=dict)
    _matcher: Matcher | None = None
    _current: Current | None = None
    _checked_at: float = float("-inf")
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def raw_model(self) -> str:
        return self.embedder.model

    @property
    def model(self) -> str:
        """The model queries use, as last read (`current` reads it again when stale)."""
        found = self._current
        return found.model if found is not None else self.raw_model

    def fresh(self) -> Current | None:
        """The last read of the active projection while it is fresh, else None."""
        found = self._current
        if found is not None and time.monotonic() - self._checked_at < CURRENT_TTL:
            return found
        return None

    def current(self, session: Session, blobs: BlobStore) -> Current:
        """The active projection, read again once CURRENT_TTL has passed."""
        with self._lock:
            found = self._current
            if found is not None and time.monotonic() - self._checked_at < CURRENT_TTL:
                return found
            row = projections.active(session, self.raw_model)
            version = int(row["version"]) if row else 0
            if found is None or found.version != version:
                projection = (
                    projections.load(blobs, row["blob_key"], row["digest"])
                    if row
                    else Projection.identity(self.embedder.dimension)
                )
                found = self._current = Current(self.raw_model, projection)
                self._forget_matrices(found.model)
            self._checked_at = time.monotonic()
            return found

    def matcher(self, blobs: BlobStore) -> Matcher:
        """The geometric check of this process (its reference features cached)."""
        with self._lock:
            if self._matcher is None:
                self._matcher = Matcher(blobs.get, self.max_pixels)
            return self._matcher

    def refresh(self) -> None:
        """Read the active projection at the next `current` (after a refit here)."""
        self._checked_at = float("-inf")

    def matrix(self, kind: str, model: str) -> VectorMatrix | None:
        """SQLite: the in-memory vectors of one kind and model (made on first use)."""
        if self.dialect != "sqlite":
            return None
        with self._lock:
            found = self.matrices.get((kind, model))
            if found is None:
                found = VectorMatrix(kind, model, self.embedder.dimension)
                self.matrices[(kind, model)] = found
            return found

    def _forget_matrices(self, keep: str) -> None:
        """Drop the matrices of models other than `keep` and the raw one (memory)."""
        for key in [k for k in self.matrices if k[1] not in {keep, self.raw_model}]:
            del self.matrices[key]

    @classmethod
    def create(cls, settings: Settings, dialect: str) -> Similarity:
        embedder = create_embedder(settings.embedder, settings.model_dir, load=False)
        return cls(embedder, dialect, settings.max_image_pixels, MATRIX_MIN_ROWS)


_BY_DATABASE: weakref.WeakKeyDictionary[Database, Similarity] = weakref.WeakKeyDictionary()
_LOCK = threading.Lock()


def similarity_for(services: Services) -> Similarity:
    with _LOCK:
        found = _BY_DATABASE.get(services.db)
        if found is None:
            found = _BY_DATABASE[services.db] = Similarity.create(
                services.settings, services.db.dialect
            )
        return found


async def current_for(services: Services) -> Current:
    """`current` from async code: one small read (none while the last one is fresh)."""
    similarity = similarity_for(services)
    found = similarity.fresh()
    if found is not None:
        return found
    return await services.db.read(lambda session: similarity.current(session, services.blobs))

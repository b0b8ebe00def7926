"""What similarity keeps per open database: the embedder and, on SQLite, the vector matrices.

Reached through `similarity_for(services)`, so hooks and handlers need nothing but the
`Services` they already get; it lives exactly as long as the `Database` it belongs to.
"""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field

from service.config import Settings
from service.db import Database
from service.services import Services
from service.similarity.background.offload import EmbeddingProcess
from service.similarity.embedding.embedders import Embedder, create_embedder
from service.similarity.index.matrix import KINDS, VectorMatrix

# When the shared SQL would make fewer DOT_PRODUCT calls than this (rows x query vectors), the
# SQLite engine runs it (a Python call per row is fast enough there); from it on, the
# in-process matrix answers.
MATRIX_MIN_ROWS = 500


@dataclass
class Similarity:
    embedder: Embedder
    dialect: str
    max_pixels: int
    matrix_min_rows: int = MATRIX_MIN_ROWS
    matrices: dict[str, VectorMatrix] = field(default_factory=dict)
    # Where the background catch-up embeds stored images (see `offload`); None: a thread.
    offload: EmbeddingProcess | None = None
    # SingleStore: embeddings per kind of this model, with when they were counted (knn.py).
    populations: dict[str, tuple[float, int]] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return self.embedder.model

    @classmethod
    def create(cls, settings: Settings, dialect: str) -> Similarity:
        embedder = create_embedder(settings.embedder, settings.model_dir)
        similarity = cls(embedder, dialect, settings.max_image_pixels, MATRIX_MIN_ROWS)
        if dialect == "sqlite":
            similarity.matrices = {
                kind: VectorMatrix(kind, embedder.model, embedder.dimension) for kind in KINDS
            }
        return similarity


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

"""Nearest neighbours of query vectors among stored snapshots or products (sync, in a session).

One answer, two ways: the named SQL (`similarity_nearest_*`, DOT_PRODUCT with ORDER BY ...
LIMIT, the same text on SingleStore and SQLite), or on SQLite with many vectors the
in-process matrix (`matrix.py`) plus one query for the rows' details.
"""

from __future__ import annotations

import json

import numpy as np

from service.db import Row, Session
from service.similarity.matrix import View, top_k
from service.similarity.state import Similarity
from service.similarity.vectors import pack

# Each kind: (named SQL for the search, detail query for ids found in memory, id column).
_KINDS = {
    "snapshot": ("similarity_nearest_snapshots", "similarity_snapshots_by_ids", "snapshot_id"),
    "product": ("similarity_nearest_products", "similarity_products_by_ids", "product_id"),
}
NO_ID = -1  # ids are positive: "exclude nothing"


def _matrix_view(similarity: Similarity, session: Session, kind: str, queries: int) -> View | None:
    """The in-memory matrix, when this engine has one and the SQL would make at least
    `matrix_min_rows` DOT_PRODUCT calls (rows x queries)."""
    matrix = similarity.matrices.get(kind)
    if matrix is None:
        return None
    view = matrix.current(session)
    return view if view.size * queries >= similarity.matrix_min_rows else None


def nearest(
    similarity: Similarity,
    session: Session,
    kind: str,
    vectors: np.ndarray,
    k: int,
    exclude: list[int | None] | None = None,
) -> list[list[Row]]:
    """For each row of `vectors`, the k nearest stored `kind`s (rows with `score`), best
    first. Snapshot rows carry product and status; product rows upc, name and image."""
    search, details, id_column = _KINDS[kind]
    exclude = exclude or [None] * len(vectors)
    view = _matrix_view(similarity, session, kind, len(vectors))
    if view is None:
        return [
            session.fetch_all(
                search,
                {
                    "vector": pack(vector),
                    "model": similarity.model,
                    "exclude_id": NO_ID if skip is None else skip,
                    "k": k,
                },
            )
            for vector, skip in zip(vectors, exclude, strict=True)
        ]
    found = top_k(view, np.asarray(vectors, dtype=np.float32), k, exclude)
    ids = sorted({id_ for hits in found for id_, _ in hits})
    rows = {row[id_column]: row for row in session.fetch_all(details, {"ids": json.dumps(ids)})}
    return [[{**rows[id_], "score": score} for id_, score in hits if id_ in rows] for hits in found]

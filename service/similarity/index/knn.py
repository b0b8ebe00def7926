"""Nearest neighbours of query vectors among stored snapshots or products (sync, in a session).

One answer, several ways: the named SQL (`similarity_nearest_*`, DOT_PRODUCT with ORDER BY
... LIMIT), or on SQLite with many vectors the in-process matrix (`matrix.py`) plus one query
for the rows' details.

On SingleStore the search is exact (the vector index kept off with `ORDER BY score USE INDEX ()
DESC`: the same answer SQLite and MariaDB give) up to EXACT_MAX_ROWS embeddings of the model,
and approximate above: the HNSW index over-fetches OVERFETCH x k candidates, and the model and
exclusion filters apply outside it. Should the candidates hold fewer than k rows of the model
(one index holds the raw and the projected vectors, and two projections during a refit),
that search is redone exactly, so k rows come back whenever k exist.
"""

from __future__ import annotations

import json
import time

import numpy as np

from service.db import Row, Session
from service.similarity.index.matrix import View, top_k
from service.similarity.index.state import Similarity
from service.similarity.index.vectors import pack

# Per kind: (named SQL for the search, detail query for ids found in memory, id column).
_QUERIES = {
    "snapshot": ("similarity_nearest_snapshots", "similarity_snapshots_by_ids", "snapshot_id"),
    "product": ("similarity_nearest_products", "similarity_products_by_ids", "product_id"),
}
_ANN = {
    "snapshot": "similarity_nearest_snapshots_ann",
    "product": "similarity_nearest_products_ann",
}
_COUNT = {
    "snapshot": "similarity_count_snapshot_embeddings",
    "product": "similarity_count_product_embeddings",
}
NO_ID = -1  # ids are positive: "exclude nothing"

# Exact search scans every embedding of the model: 100,000 x 580 float32 is 232 MB read per
# query, spread over the leaves; beyond it the index answers.
EXACT_MAX_ROWS = 100_000
# Index candidates per wanted row: room for the excluded row and another model's rows
# (SingleStore's own LangChain integration over-fetches k x 10 when it filters).
OVERFETCH = 10
POPULATION_TTL = 60.0  # seconds a count of embeddings is reused


def _matrix_view(
    similarity: Similarity, session: Session, kind: str, model: str, queries: int
) -> View | None:
    """The in-memory matrix, when this engine has one and the SQL would make at least
    `matrix_min_rows` DOT_PRODUCT calls (rows x queries)."""
    matrix = similarity.matrix(kind, model)
    if matrix is None:
        return None
    view = matrix.current(session)
    return view if view.size * queries >= similarity.matrix_min_rows else None


def _population(similarity: Similarity, session: Session, kind: str, model: str) -> int:
    counted = similarity.populations.get((kind, model))
    now = time.monotonic()
    if counted is None or now - counted[0] > POPULATION_TTL:
        n = session.fetch_value(_COUNT[kind], {"model": model})
        counted = similarity.populations[(kind, model)] = (now, int(n or 0))
    return counted[1]


def _search(
    similarity: Similarity,
    session: Session,
    kind: str,
    model: str,
    vector: np.ndarray,
    k: int,
    skip: int,
) -> list[Row]:
    """One search in SQL: exact, or from the vector index on a large SingleStore table."""
    params = {"vector": pack(vector), "model": model, "exclude_id": skip, "k": k}
    if session.is_singlestore and _population(similarity, session, kind, model) > EXACT_MAX_ROWS:
        fetch = k * OVERFETCH
        options = json.dumps({"k": fetch, "ef": fetch})
        rows = session.fetch_all(_ANN[kind], {**params, "fetch": fetch, "search_options": options})
        if len(rows) >= k:
            return rows
    return session.fetch_all(_QUERIES[kind][0], params)


def nearest(
    similarity: Similarity,
    session: Session,
    kind: str,
    model: str,
    vectors: np.ndarray,
    k: int,
    exclude: list[int | None] | None = None,
) -> list[list[Row]]:
    """For each row of `vectors`, the k nearest stored `kind`s of `model` (rows with `score`),
    best first. Snapshot rows carry product and status; product rows upc, name and image."""
    _, details, id_column = _QUERIES[kind]
    exclude = exclude or [None] * len(vectors)
    view = _matrix_view(similarity, session, kind, model, len(vectors))
    if view is None:
        return [
            _search(similarity, session, kind, model, vector, k, NO_ID if skip is None else skip)
            for vector, skip in zip(vectors, exclude, strict=True)
        ]
    found = top_k(view, np.asarray(vectors, dtype=np.float32), k, exclude)
    ids = sorted({id_ for hits in found for id_, _ in hits})
    rows = {row[id_column]: row for row in session.fetch_all(details, {"ids": json.dumps(ids)})}
    return [[{**rows[id_], "score": score} for id_, score in hits if id_ in rows] for hits in found]

"""The embedded engine's fast path: one kind's embeddings as an in-process float32 matrix.

On SQLite, `ORDER BY DOT_PRODUCT(...)` calls a Python function once per row, about 30x slower
than one matrix product. So the SQLite engine keeps the vectors of each kind (snapshots,
products) and model in memory and answers top-k with numpy; SingleStore runs the same
question as SQL on its vector index instead.

Staying in step with the table: every write the service makes bumps a counter row in
`embedding_versions` in the same transaction (`appends` for a new row, `rewrites` for an
update or delete). A reader checks the counters inside its own read transaction: new appends
are read incrementally by rowid, a new rewrite reloads the matrix. Writes made behind the
service's back (a DELETE in the SQL shell) are seen at the next rewrite or restart; until then
their ids may come back from the matrix, and the metadata join drops rows that are gone.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from service.db import Session
from service.similarity.index.vectors import stack

# The kinds searched in memory (store-visit images are searched in SQL only), and the query
# that reads each one's rows added since a rowid.
IN_MEMORY = {
    "snapshot": "similarity_matrix_snapshots",
    "product": "similarity_matrix_products",
}


@dataclass(frozen=True, slots=True)
class View:
    """An immutable view of the matrix: row i is the vector of id ids[i]."""

    ids: np.ndarray  # int64 (n,)
    vectors: np.ndarray  # float32 (n, dimension)

    @property
    def size(self) -> int:
        return int(self.ids.shape[0])


class VectorMatrix:
    """The vectors of one kind and model, in memory, grown in place (capacity doubling)."""

    def __init__(self, kind: str, model: str, dimension: int) -> None:
        if kind not in IN_MEMORY:
            raise ValueError(f"no in-memory matrix for {kind!r}")
        self.kind = kind
        self.model = model
        self.dimension = dimension
        self._lock = threading.Lock()
        self._reset()
        self.version: tuple[int, int] | None = None  # (appends, rewrites) of what is loaded
        self.reloads = 0  # full loads so far (tests and logs)

    def _reset(self) -> None:
        self._ids = np.empty(0, dtype=np.int64)
        self._vectors = np.empty((0, self.dimension), dtype=np.float32)
        self._size = 0
        self._last_rowid = 0

    def _view(self) -> View:
        return View(self._ids[: self._size], self._vectors[: self._size])

    def _append(self, session: Session) -> None:
        rows = session.fetch_all(
            IN_MEMORY[self.kind],
            {"model": self.model, "after_rowid": self._last_rowid},
        )
        if not rows:
            return
        ids = np.fromiter((row["id"] for row in rows), dtype=np.int64, count=len(rows))
        vectors = stack((row["embedding"] for row in rows), self.dimension)
        need = self._size + len(rows)
        if need > self._vectors.shape[0]:  # grow into new arrays; old views stay valid
            capacity = max(need, 2 * self._vectors.shape[0], 1024)
            grown_ids = np.empty(capacity, dtype=np.int64)
            grown = np.empty((capacity, self.dimension), dtype=np.float32)
            grown_ids[: self._size] = self._ids[: self._size]
            grown[: self._size] = self._vectors[: self._size]
            self._ids, self._vectors = grown_ids, grown
        # Rows past the current size are invisible to views already handed out.
        self._ids[self._size : need] = ids
        self._vectors[self._size : need] = vectors
        self._size = need
        self._last_rowid = int(rows[-1]["rid"])

    def current(self, session: Session) -> View:
        """The matrix as of `session`'s read snapshot (or newer), reading what changed."""
        row = session.fetch_one("similarity_version", {"kind": self.kind})
        version = (int(row["appends"]), int(row["rewrites"])) if row else (0, 0)
        with self._lock:
            if version == self.version:
                return self._view()
            loaded = self.version
            if loaded is not None and (version[0] < loaded[0] or version[1] < loaded[1]):
                return self._view()  # an older snapshot than ours: ours is a superset
            if loaded is None or version[1] != loaded[1]:
                self._reset()
                self.reloads += 1
            self._append(session)
            self.version = version
            return self._view()


def top_k(
    view: View, queries: np.ndarray, k: int, exclude: list[int | None] | None = None
) -> list[list[tuple[int, float]]]:
    """For each query row, the k (id, score) pairs of highest dot product, best first; ties
    go to the lower id. `exclude[i]` is an id left out of query i's answer."""
    if view.size == 0 or k <= 0:
        return [[] for _ in range(len(queries))]
    scores = view.vectors @ queries[0] if len(queries) == 1 else queries @ view.vectors.T
    scores = scores.reshape(len(queries), view.size)
    take = min(k + 1, view.size)
    results = []
    for row in range(len(queries)):
        row_scores = scores[row]
        if take < view.size:
            candidates = np.argpartition(-row_scores, take - 1)[:take]
        else:
            candidates = np.arange(view.size)
        order = np.lexsort((view.ids[candidates], -row_scores[candidates]))
        skip = exclude[row] if exclude else None
        picked = [
            (int(view.ids[i]), float(row_scores[i]))
            for i in candidates[order]
            if skip is None or int(view.ids[i]) != skip
        ]
        results.append(picked[:k])
    return results

"""Which product a picture shows, by a vote of its nearest reference images and snapshots."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from service.db import Row, Session
from service.similarity.index import knn
from service.similarity.index.state import Similarity
from service.similarity.ranking.votes import Candidate, Neighbour, vote

SNAPSHOT_NEIGHBOURS = 10  # nearest other snapshots that vote
REFERENCE_NEIGHBOURS = 3  # nearest reference images that vote


@dataclass(frozen=True, slots=True)
class Evidence:
    snapshots: list[Row]  # nearest snapshots, best first
    products: list[Row]  # nearest reference images, best first
    candidates: list[Candidate]  # the vote, best first

    def ranked(self, k: int) -> list[Candidate]:
        """Up to k products: the vote's, then the nearest references that got no vote."""
        out = list(self.candidates[:k])
        seen = {c.product_id for c in out}
        for row in self.products:
            if len(out) >= k:
                break
            if row["product_id"] not in seen:
                out.append(Candidate(row["product_id"], 0.0, float(row["score"])))
                seen.add(row["product_id"])
        return out


def gather(
    similarity: Similarity,
    session: Session,
    vectors: np.ndarray,
    exclude_snapshots: list[int | None] | None = None,
    references: int = REFERENCE_NEIGHBOURS,
) -> list[Evidence]:
    """Neighbours and vote for each query vector (a snapshot leaves itself out by id)."""
    snapshots = knn.nearest(
        similarity, session, "snapshot", vectors, SNAPSHOT_NEIGHBOURS, exclude_snapshots
    )
    products = knn.nearest(
        similarity, session, "product", vectors, max(references, REFERENCE_NEIGHBOURS)
    )
    out = []
    for near_snapshots, near_products in zip(snapshots, products, strict=True):
        neighbours = [
            Neighbour(row["product_id"], float(row["score"]), row["status"])
            for row in near_snapshots
        ] + [
            Neighbour(row["product_id"], float(row["score"]), "reference")
            for row in near_products[:REFERENCE_NEIGHBOURS]
        ]
        out.append(Evidence(near_snapshots, near_products, vote(neighbours)))
    return out

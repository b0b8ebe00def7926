"""Which product a picture shows, by a vote of its nearest reference images and snapshots.

Two steps, so the geometric check can run between them outside any transaction:
`neighbourhoods` finds each query's nearest snapshots and reference images (kNN on one
model), and `decide` re-ranks the references by their inliers (`rerank.boost`, when given)
and takes the vote (`votes.vote`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from service.db import Row, Session
from service.similarity.index import knn
from service.similarity.index.state import Similarity
from service.similarity.ranking import rerank
from service.similarity.ranking.votes import Candidate, Neighbour, vote

SNAPSHOT_NEIGHBOURS = 10  # nearest other snapshots that vote
REFERENCE_NEIGHBOURS = 3  # nearest reference images that vote


@dataclass(frozen=True, slots=True)
class Neighbourhood:
    snapshots: list[Row]  # nearest other snapshots, best first
    products: list[Row]  # nearest reference images, best first (at least rerank.CHECKED)


@dataclass(frozen=True, slots=True)
class Evidence:
    snapshots: list[Row]  # nearest snapshots, best first
    products: list[Row]  # nearest reference images, best first after the geometric check
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


def neighbourhoods(
    similarity: Similarity,
    session: Session,
    model: str,
    vectors: np.ndarray,
    exclude_snapshots: list[int | None] | None = None,
    references: int = REFERENCE_NEIGHBOURS,
) -> list[Neighbourhood]:
    """Nearest snapshots and reference images of each query vector (a snapshot leaves itself
    out by id)."""
    snapshots = knn.nearest(
        similarity, session, "snapshot", model, vectors, SNAPSHOT_NEIGHBOURS, exclude_snapshots
    )
    wanted = max(references, REFERENCE_NEIGHBOURS, rerank.CHECKED)
    products = knn.nearest(similarity, session, "product", model, vectors, wanted)
    return [Neighbourhood(s, p) for s, p in zip(snapshots, products, strict=True)]


def decide(near: Neighbourhood, inliers: Mapping[int, int] | None = None) -> Evidence:
    """The vote, after the geometric check re-ranked the references (when `inliers`)."""
    products = rerank.boost(near.products, inliers) if inliers else list(near.products)
    neighbours = [
        Neighbour(row["product_id"], float(row["score"]), row["status"]) for row in near.snapshots
    ] + [
        Neighbour(row["product_id"], float(row["score"]), "reference")
        for row in products[:REFERENCE_NEIGHBOURS]
    ]
    return Evidence(near.snapshots, products, vote(neighbours))


def gather(
    similarity: Similarity,
    session: Session,
    model: str,
    vectors: np.ndarray,
    exclude_snapshots: list[int | None] | None = None,
    references: int = REFERENCE_NEIGHBOURS,
) -> list[Evidence]:
    """Neighbours and vote for each query vector, without the geometric check."""
    near = neighbourhoods(similarity, session, model, vectors, exclude_snapshots, references)
    return [decide(n) for n in near]

"""What the projection is fitted from, and when a refit is due (pure; `refit` runs it).

Labels the service has, from most to least trusted:
- every product's reference image (weight 1): the truth about that product;
- snapshots QA confirmed (status `match`) or a lead confirmed (kept, or moved there), weight 1;
- plain attributions of pending snapshots (weight 0.5), but only those whose raw-vector vote
  (the same kNN vote as suggestions, leaving themselves out) agrees with the attribution: a
  mis-attributed photo taught as its wrong product would teach the projection to hide exactly
  the difference QA needs to see. QA-rejected snapshots (`mismatch`) never count.
At most PER_PRODUCT snapshots of a product are used (the ones with the lowest ids, stable
across refits), so a fit stays a few seconds however large the catalog.

A refit is due when there is no projection yet (and at least two products and two
snapshots), or when the labels changed by GROWTH of what the last fit saw (at least MIN_NEW
labels), no sooner than MIN_INTERVAL after it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np

from service.db import Row, Session
from service.similarity.embedding import projection as wccn
from service.similarity.index.vectors import stack
from service.similarity.ranking.suggestions import REFERENCE_NEIGHBOURS, SNAPSHOT_NEIGHBOURS
from service.similarity.ranking.votes import Neighbour, vote

WEIGHT_REFERENCE = 1.0
WEIGHT_CONFIRMED = 1.0
WEIGHT_ATTRIBUTED = 0.5
PER_PRODUCT = 200
GROWTH = 0.2
MIN_NEW = 20
MIN_INTERVAL = timedelta(seconds=60)
_CHUNK = 1024  # query rows per similarity block in the agreement vote


@dataclass(frozen=True, slots=True)
class Counts:
    """Labelled pictures with a raw vector, by kind of label."""

    products: int
    attributed: int
    confirmed: int

    @property
    def total(self) -> int:
        return self.products + self.attributed + self.confirmed

    @classmethod
    def read(cls, session: Session, raw_model: str) -> Counts:
        row = session.fetch_one("similarity_label_counts", {"raw_model": raw_model}) or {}
        return cls(*(int(row.get(k) or 0) for k in ("products", "attributed", "confirmed")))


def due(now: Counts, last: Counts | None, last_at: datetime | None, at: datetime) -> bool:
    """Whether a refit is due (pure: the rule in the module docstring)."""
    if last is None:
        return now.products >= 2 and now.attributed + now.confirmed >= 2
    if last_at is not None and at - last_at < MIN_INTERVAL:
        return False
    changed = abs(now.total - last.total) + abs(now.confirmed - last.confirmed)
    return changed >= max(MIN_NEW, GROWTH * last.total)


@dataclass(frozen=True, slots=True)
class TrainingSet:
    vectors: np.ndarray  # float32 (n, d) raw
    labels: np.ndarray  # int64 product ids
    weights: np.ndarray  # float64
    summary: dict[str, int]


def _agreeing(
    snapshots: np.ndarray, attributed: np.ndarray, references: np.ndarray, ref_labels: np.ndarray
) -> np.ndarray:
    """Per snapshot, whether the raw kNN vote (leaving itself out) picks its attribution."""
    out = np.zeros(len(snapshots), dtype=bool)
    k_s = min(SNAPSHOT_NEIGHBOURS, max(len(snapshots) - 1, 0))
    k_r = min(REFERENCE_NEIGHBOURS, len(references))
    for start in range(0, len(snapshots), _CHUNK):
        block = snapshots[start : start + _CHUNK]
        near_s = block @ snapshots.T
        near_s[np.arange(len(block)), np.arange(start, start + len(block))] = -np.inf
        near_r = block @ references.T
        for row in range(len(block)):
            found = []
            if k_s:
                top = np.argpartition(-near_s[row], k_s - 1)[:k_s]
                found += [
                    Neighbour(int(attributed[i]), float(near_s[row, i]), "pending") for i in top
                ]
            if k_r:
                top = np.argpartition(-near_r[row], k_r - 1)[:k_r]
                found += [
                    Neighbour(int(ref_labels[i]), float(near_r[row, i]), "reference") for i in top
                ]
            ranked = vote(found)
            out[start + row] = bool(ranked) and ranked[0].product_id == attributed[start + row]
    return out


def training_set(products: list[Row], snapshots: list[Row], dimension: int) -> TrainingSet:
    """What to fit from (the rule in the module docstring). Rows: the training queries'."""
    ref_labels = np.array([row["product_id"] for row in products], dtype=np.int64)
    references = stack((row["embedding"] for row in products), dimension)
    kept: dict[int, int] = {}
    chosen = []
    for row in sorted(snapshots, key=lambda r: r["id"]):
        if kept.get(row["product_id"], 0) < PER_PRODUCT:
            kept[row["product_id"]] = kept.get(row["product_id"], 0) + 1
            chosen.append(row)
    labels = np.array([row["product_id"] for row in chosen], dtype=np.int64)
    vectors = stack((row["embedding"] for row in chosen), dimension)
    confirmed = np.array(
        [row["status"] == "match" or bool(row.get("lead_confirmed")) for row in chosen], dtype=bool
    )
    weights = np.where(confirmed, WEIGHT_CONFIRMED, WEIGHT_ATTRIBUTED)
    if len(chosen):
        units = wccn.unit(vectors)
        agree = _agreeing(units, labels, wccn.unit(references), ref_labels)
        weights = np.where(confirmed | agree, weights, 0.0)
    summary = {
        "references": len(products),
        "confirmed": int(confirmed.sum()),
        "attributed": int(((~confirmed) & (weights > 0)).sum()),
        "left_out": int((weights == 0).sum()),
    }
    return TrainingSet(
        np.concatenate([references, vectors]),
        np.concatenate([ref_labels, labels]),
        np.concatenate([np.full(len(products), WEIGHT_REFERENCE), weights]),
        summary,
    )

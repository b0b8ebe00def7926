"""The catalog's own similarity: a linear projection learnt from labelled vectors (pure numpy).

Within-class covariance normalisation (WCCN): the directions in which pictures of one product
vary (light, angle, hand, shelf, packshot against photo) are shrunk, so what is left to
compare is what tells products apart. From labelled raw vectors x_i with product y_i and
weight w_i:

    m  = weighted mean of all x_i
    Sw = weighted covariance of x_i - mean of its product
    S  = (1 - SHRINKAGE) Sw + SHRINKAGE * (trace(Sw) / d) I       (a few hundred pictures do
                                                                  not estimate 1280 x 1280)
    W  = S^(-1/2)

and a vector is stored as unit(unit(x) + unit(W (x - m))): half the raw direction, half the
projected one. Keeping the raw half is what lets the projection generalise to products it
never saw (the raw network knows them; the projection only knows how the catalog varies).
Both shrinkage and the half-and-half mix were chosen on grocery-train (README,
"Recognition"); the same dimension as the raw vector keeps the tables' VECTOR(n) size.

Version 0 is the identity (W = I, m = 0): unit(x + x) = unit(x), the raw vector.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

import numpy as np

SHRINKAGE = 0.3


def unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.maximum(np.linalg.norm(rows, axis=-1, keepdims=True), 1e-12)


@dataclass(frozen=True, slots=True)
class Projection:
    version: int
    mean: np.ndarray  # float32 (d,)
    matrix: np.ndarray  # float32 (d, d), symmetric

    @classmethod
    def identity(cls, dimension: int) -> Projection:
        return cls(0, np.zeros(dimension, np.float32), np.eye(dimension, dtype=np.float32))

    @property
    def dimension(self) -> int:
        return int(self.mean.shape[0])

    def apply(self, raw: np.ndarray) -> np.ndarray:
        """Projected unit vectors of raw vectors (d,) or (n, d), float32."""
        raw = np.asarray(raw, dtype=np.float32)
        if self.version == 0:
            return unit(raw).astype(np.float32)
        projected = unit((raw - self.mean) @ self.matrix)
        return unit(unit(raw) + projected).astype(np.float32)

    def to_bytes(self) -> bytes:
        buffer = io.BytesIO()
        np.savez(buffer, version=np.int64(self.version), mean=self.mean, matrix=self.matrix)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Projection:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls(
                int(z["version"]), z["mean"].astype(np.float32), z["matrix"].astype(np.float32)
            )

    def digest(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()


def fit(
    vectors: np.ndarray,
    labels: np.ndarray,
    weights: np.ndarray,
    version: int,
    shrinkage: float = SHRINKAGE,
) -> Projection:
    """WCCN from labelled raw vectors (n, d). Products with one picture add nothing to the
    within-class scatter but still shift the mean; at least one product needs two."""
    x = np.asarray(vectors, dtype=np.float64)
    y = np.asarray(labels)
    w = np.asarray(weights, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(y) or len(x) != len(w) or not (w > 0).any():
        raise ValueError("fit needs labelled vectors with some positive weight")
    keep = w > 0
    x, y, w = x[keep], y[keep], w[keep]
    mean = (w[:, None] * x).sum(axis=0) / w.sum()
    deviations = np.empty_like(x)
    for label in np.unique(y):
        members = y == label
        centre = (w[members, None] * x[members]).sum(axis=0) / w[members].sum()
        deviations[members] = x[members] - centre
    scatter = (deviations * w[:, None]).T @ deviations / w.sum()
    d = x.shape[1]
    level = np.trace(scatter) / d
    if level <= 0:
        raise ValueError("fit needs a product with at least two different pictures")
    shrunk = (1 - shrinkage) * scatter + shrinkage * level * np.eye(d)
    values, basis = np.linalg.eigh(shrunk)
    matrix = (basis / np.sqrt(np.maximum(values, level * 1e-6))) @ basis.T
    return Projection(version, mean.astype(np.float32), matrix.astype(np.float32))

"""Request and response bodies of the similarity API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec
from litestar.datastructures import UploadFile

Status = Literal["pending", "match", "mismatch"]


class SearchUpload(msgspec.Struct):
    """A photo to search the catalog with (multipart/form-data)."""

    image: UploadFile


class ProductBrief(msgspec.Struct):
    id: int
    upc: str
    name: str


class SimilarSnapshot(msgspec.Struct):
    """A stored snapshot near the query, by cosine similarity of embeddings (-1 to 1)."""

    snapshot_id: int
    score: float
    product: ProductBrief
    image_url: str
    status: Status


class SimilarProduct(msgspec.Struct):
    """A product whose reference image is near the query: `score` is the cosine similarity,
    `inliers` the geometric check's count (null where it did not look)."""

    id: int
    upc: str
    name: str
    image_url: str
    score: float
    inliers: int | None = None


class Suggestion(msgspec.Struct):
    """A candidate product: `score` is its share of the neighbours' weighted vote (0 to 1;
    0 for a near reference image that got no vote), `similarity` its nearest image's cosine
    similarity to the query, `inliers` how many local features of its reference image the
    query shares in one layout (the geometric check; null where it did not look)."""

    id: int
    upc: str
    name: str
    image_url: str
    score: float
    similarity: float
    attributed: bool  # the product the snapshot is attributed to
    inliers: int | None = None


class SimilarSnapshots(msgspec.Struct):
    """Snapshots that look most like this one, nearest first."""

    snapshot_id: int
    model: str
    results: list[SimilarSnapshot]


class Suggestions(msgspec.Struct):
    """Candidate products for a snapshot, best first, from a kNN vote over the nearest
    reference images and the nearest other snapshots (QA-confirmed ones count double)."""

    snapshot_id: int
    model: str
    product: ProductBrief
    suggestions: list[Suggestion]


class SimilarProducts(msgspec.Struct):
    """Products whose reference images look most like this product's, nearest first."""

    upc: str
    model: str
    results: list[SimilarProduct]


class SearchResults(msgspec.Struct):
    """What the uploaded photo most likely shows, and the nearest products and snapshots."""

    model: str
    suggestions: list[Suggestion]
    products: list[SimilarProduct]
    snapshots: list[SimilarSnapshot]


class Suspect(msgspec.Struct):
    """A snapshot whose neighbours vote for another product. `score` = the other product's
    vote share minus the attributed product's (-1 to 1; above 0: the other product wins)."""

    snapshot_id: int
    image_url: str
    status: Status
    product: ProductBrief
    suggested_product: ProductBrief | None
    score: float
    own_share: float
    suggested_share: float
    scored_at: datetime

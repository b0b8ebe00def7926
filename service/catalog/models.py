"""Request and response bodies of the catalog API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar.datastructures import UploadFile
from msgspec import Meta

from service.http.schema import UPC

ProductName = Annotated[str, Meta(min_length=1, max_length=200)]
FileName = Annotated[str, Meta(max_length=255)]


class ProductCreate(msgspec.Struct):
    """A new product: its UPC, name and reference image (multipart/form-data)."""

    upc: UPC
    name: ProductName
    image: UploadFile


class SnapshotCreate(msgspec.Struct):
    """A new snapshot of a product (multipart/form-data); `filename` overrides the file's."""

    image: UploadFile
    filename: FileName | None = None


class Product(msgspec.Struct):
    """A catalog product and its reference image."""

    id: int
    upc: str
    name: str
    image_url: str
    image_width: int
    image_height: int
    image_format: str
    snapshot_count: int
    created_at: datetime


class ProductPage(msgspec.Struct):
    """One page of products; pass `next_cursor` as `cursor` for the next (null: no more)."""

    items: list[Product]
    next_cursor: str | None


class ProductRef(msgspec.Struct):
    id: int
    upc: str
    name: str
    image_url: str


class Votes(msgspec.Struct):
    match: int
    mismatch: int


class Snapshot(msgspec.Struct):
    """A snapshot, the product it is attributed to, and its QA votes and status."""

    snapshot_id: int
    product: ProductRef
    image_url: str
    image_width: int
    image_height: int
    image_format: str
    source: str | None
    votes: Votes
    status: Literal["pending", "match", "mismatch"]
    created_at: datetime
    resolved_at: datetime | None
    # QA_CONSENSUS=assisted: the posterior probability of `status`. Null while pending and
    # for snapshots settled by the plain majority rule.
    confidence: float | None = None
    # How the status was reached: "majority" of QA_VOTES, "assisted" (the posterior reached
    # QA_CONFIDENCE), or "lead" (moved here by a lead under QA_TRUST_LEAD); null while pending.
    settled_by: Literal["majority", "assisted", "lead"] | None = None
    # Bumped by every change a lead makes; a change names the version it was based on
    # (If-Match or `version`), and the answer's ETag carries it.
    version: int = 0
    # How many times a lead moved it to another product (undos included): see its history.
    moves: int = 0
    # A lead confirmed its current attribution (kept it, or moved it here), and when.
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    # A lead sent it to QA first: handed out before other snapshots while pending.
    qa_first: bool = False

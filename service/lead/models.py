"""Request and response bodies of the lead's API: changes to a snapshot, its history of
moves, and what the desk page reads."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from service.catalog.models import Votes
from service.http.schema import UPC

Status = Literal["pending", "match", "mismatch"]
Reason = Annotated[str, Meta(min_length=1, max_length=500)]
Version = Annotated[int, Meta(ge=0, le=2**63 - 1, description="the snapshot's version")]


class SnapshotChange(msgspec.Struct, forbid_unknown_fields=True):
    """A lead's change to a snapshot (PATCH /api/snapshots/{id}), at least one of:
    `product_upc` moves it to that product (with an optional `reason`), `reviewed` marks its
    attribution as checked by a lead (it leaves the suspects) or not, `qa_first` sends a
    pending snapshot to QA before any other (or not). `version` is the snapshot version the
    change is based on; or send it as `If-Match`."""

    product_upc: UPC | None = None
    reason: Reason | None = None
    reviewed: bool | None = None
    qa_first: bool | None = None
    version: Version | None = None


class UndoRequest(msgspec.Struct, forbid_unknown_fields=True):
    """Undo a snapshot's last move. `version`: as for a change (or send `If-Match`)."""

    version: Version | None = None
    reason: Reason | None = None


class ProductTile(msgspec.Struct):
    """A product with its packshot (reference image) and a fixed-size thumbnail of it."""

    id: int
    upc: str
    name: str
    image_url: str
    thumb_url: str


class HeldVerdict(msgspec.Struct):
    """A verdict QA had given for the attribution a move left (it stopped counting then;
    `restored`: an undo brought it back)."""

    username: str
    is_match: bool
    answered_at: datetime | None
    restored: bool


class HeldQA(msgspec.Struct):
    """The QA state a snapshot held when it was moved."""

    status: Status
    votes: Votes
    settled_by: Literal["majority", "assisted", "lead"] | None
    confidence: float | None
    released: int  # reservations of open QA sessions that the move released
    verdicts: list[HeldVerdict]


class Move(msgspec.Struct):
    """One move of a snapshot to another product (`kind` "undo": back, undoing a move).
    `qa_outcome`: "pending" (back in the QA queue), "lead" (QA_TRUST_LEAD: settled as a
    match by the lead) or "restored" (an undo: the QA state before the undone move)."""

    move_id: int
    snapshot_id: int
    seq: int
    kind: Literal["move", "undo"]
    moved_by: str
    moved_at: datetime
    reason: str | None
    from_product: ProductTile
    to_product: ProductTile
    held: HeldQA
    qa_outcome: Literal["pending", "lead", "restored"]
    undone_by: int | None
    image_url: str
    thumb_url: str


class SnapshotHistory(msgspec.Struct):
    """Every move of one snapshot, latest first."""

    snapshot_id: int
    moves: list[Move]


class MovePage(msgspec.Struct):
    """Moves of every snapshot, latest first; pass `next_cursor` as `cursor` for more."""

    items: list[Move]
    next_cursor: str | None


class SuggestedProduct(msgspec.Struct):
    """The product a snapshot's neighbours vote for most, and its share of the vote (0-1)."""

    id: int
    upc: str
    name: str
    image_url: str
    thumb_url: str
    score: float


class SuspectTile(msgspec.Struct):
    """A suspect on the desk: the photo, the product it is attributed to, the suggested one,
    its QA votes. `suspicion`: the suggested product's share minus its own (-1 to 1)."""

    snapshot_id: int
    version: int
    status: Status
    votes: Votes
    moves: int
    qa_first: bool
    suspicion: float
    image_url: str
    thumb_url: str
    product: ProductTile
    suggested: SuggestedProduct | None


class SuspectPage(msgspec.Struct):
    """Suspects, most suspicious first; pass `next_cursor` as `cursor` for the next page."""

    items: list[SuspectTile]
    next_cursor: str | None


class SnapshotThumb(msgspec.Struct):
    snapshot_id: int
    version: int
    status: Status
    votes: Votes
    moves: int
    reviewed: bool
    qa_first: bool
    image_url: str
    thumb_url: str


class StatusGroup(msgspec.Struct):
    """A product's snapshots of one QA status: how many, and the latest few."""

    status: Status
    count: int
    snapshots: list[SnapshotThumb]


class ConfusedSnapshot(msgspec.Struct):
    """A snapshot of one product of the pair that looks like the other."""

    snapshot_id: int
    version: int
    product_id: int
    status: Status
    suspicion: float
    thumb_url: str


class Confusion(msgspec.Struct):
    """A product often confused with this one: `snapshots` of either look like the other
    (`outgoing` of them are this product's), with the most suspicious as examples."""

    product: ProductTile
    snapshots: int
    outgoing: int
    examples: list[ConfusedSnapshot]


class ProductView(msgspec.Struct):
    """A product on the desk: its packshot, its snapshots by status, its confusions."""

    product: ProductTile
    groups: list[StatusGroup]
    confusions: list[Confusion]

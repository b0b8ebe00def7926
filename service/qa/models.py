"""Request and response bodies of the QA API (the QA web page depends on these names)."""

from __future__ import annotations

import msgspec


class SessionSnapshot(msgspec.Struct):
    """A snapshot to review beside the reference image of the product it is attributed to."""

    snapshot_id: int
    snapshot_image_url: str
    product_id: int
    product_upc: str
    product_name: str
    product_image_url: str


class QASession(msgspec.Struct):
    """A QA session and its snapshots still to answer."""

    session_id: int
    remaining_snapshots_quantity: int
    snapshots: list[SessionSnapshot]


class Verdict(msgspec.Struct, forbid_unknown_fields=True):
    """Exactly `{"is_match": true}` or `{"is_match": false}`."""

    is_match: bool


class Remaining(msgspec.Struct):
    """Snapshots of the session still unanswered."""

    remaining_snapshots_quantity: int


class LeaderboardEntry(msgspec.Struct, omit_defaults=True):
    """One QA's standing. See the README for the formula."""

    rank: int
    username: str
    activity_points: int
    accuracy_points: int
    reviewed: int
    agreement_rate: float | None
    # QA_CONSENSUS=assisted: the estimated chance that this reviewer's verdict is right, as the
    # rule counts it (0.5 to 0.95; 0.85 for a new reviewer). Absent under the majority rule.
    reliability: float | None = None

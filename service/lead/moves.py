"""A lead's changes to a snapshot, each one transaction: a move to another product (with its
record in `snapshot_moves` and the release of QA reservations, all or nothing), the undo of
the last move, and the marks (reviewed, QA first).

Optimistic concurrency: a change names the snapshot version it was based on, and its first
write to the snapshot is a compare-and-set on that version (`lead_claim_snapshot`, which also
takes the row lock). Of two leads changing one version, one gets it, the other a 409. Locks
are taken in the QA order (service/qa/moves.py): holders' sessions first, the snapshot next.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import structlog

from service.db import Database, LockConflict, Row, Session
from service.errors import Conflict, InvalidInput, NotFound, Unavailable
from service.qa import moves as qa_moves
from service.qa import voting

log = structlog.get_logger(__name__)

T = TypeVar("T")
ATTEMPTS = 4  # a transaction that lost a lock conflict, or found a new holder, runs again
RESTORED = "restored"  # an undo's qa_outcome


class VersionConflict(Conflict):
    def __init__(self, snapshot_id: int, expected: int, current: int) -> None:
        super().__init__(
            f"snapshot {snapshot_id} changed since version {expected} (it is at version "
            f"{current} now): reload it and decide again",
            version=current,
        )


@dataclass(frozen=True, slots=True)
class Change:
    """What a lead asked for (PATCH /api/snapshots/{id}); None leaves a thing as it is."""

    snapshot_id: int
    version: int
    username: str
    product_upc: str | None = None
    reason: str | None = None
    reviewed: bool | None = None
    qa_first: bool | None = None


def _state(session: Session, snapshot_id: int) -> Row:
    row = session.fetch_one("lead_snapshot", {"snapshot_id": snapshot_id})
    if row is None:
        raise NotFound(f"no snapshot with id {snapshot_id}")
    return row


def _check_version(row: Row, expected: int) -> None:
    if row["version"] != expected:
        raise VersionConflict(row["id"], expected, row["version"])


def _claim(session: Session, snapshot_id: int, expected: int) -> Row:
    """Compare-and-set the version, then read the (now locked) row."""
    params = {"snapshot_id": snapshot_id, "version": expected}
    if session.execute("lead_claim_snapshot", params).rowcount != 1:
        _check_version(_state(session, snapshot_id), expected)
        raise AssertionError("unreachable: the version matched but the row was not claimed")
    return _state(session, snapshot_id)


def _held(row: Row) -> dict[str, Any]:
    """The QA state a move records (and an undo puts back)."""
    return {
        "held_status": row["status"],
        "held_votes_match": row["votes_match"],
        "held_votes_mismatch": row["votes_mismatch"],
        "held_settled_by": row["settled_by"],
        "held_prior": row["prior"],
        "held_posterior": row["posterior"],
        "held_verdicts_needed": row["verdicts_needed"],
        "held_resolved_at": row["resolved_at"],
        "held_reviewed_by": row["lead_reviewed_by"],
        "held_reviewed_at": row["lead_reviewed_at"],
    }


def _record(session: Session, row: Row, **fields: Any) -> int:
    result = session.execute(
        "lead_insert_move",
        {"snapshot_id": row["id"], "seq": row["moves"] + 1, "from_product_id": row["product_id"],
         **_held(row), **fields},
    )  # fmt: skip
    assert result.lastrowid is not None
    return int(result.lastrowid)


def _move(session: Session, change: Change, trust_lead: bool, now: datetime) -> None:
    row = _state(session, change.snapshot_id)
    _check_version(row, change.version)
    target = session.fetch_one("lead_product_by_upc", {"upc": change.product_upc})
    if target is None:
        raise NotFound(f"no product with UPC {change.product_upc}")
    if target["id"] == row["product_id"]:
        raise InvalidInput(
            f"snapshot {change.snapshot_id} is already attributed to {change.product_upc}"
        )
    holders = qa_moves.lock_holders(session, change.snapshot_id)
    qa_moves.release(session, holders, now)
    row = _claim(session, change.snapshot_id, change.version)
    qa_moves.check_holders(session, change.snapshot_id, holders)
    qa = qa_moves.restart(trust_lead, now)
    move_id = _record(
        session, row, kind="move", to_product_id=target["id"], moved_by=change.username,
        moved_at=now, reason=change.reason, released=holders.count, qa_outcome=qa["qa_outcome"],
    )  # fmt: skip
    qa_moves.archive(session, change.snapshot_id, move_id)
    session.execute(
        "lead_apply_move",
        {"snapshot_id": change.snapshot_id, "product_id": target["id"], "status": qa["status"],
         "released": holders.count, "verdicts_needed": qa["verdicts_needed"],
         "settled_by": qa["settled_by"], "resolved_at": qa["resolved_at"],
         "reviewed_by": change.username, "reviewed_at": now},
    )  # fmt: skip


def _marks(session: Session, change: Change, now: datetime, claimed: bool) -> None:
    if change.reviewed is None and change.qa_first is None:
        return
    row = _state(session, change.snapshot_id)
    if not claimed:
        _check_version(row, change.version)
    if change.qa_first and row["status"] != voting.PENDING:
        raise InvalidInput(
            f"snapshot {change.snapshot_id} is settled ({row['status']}): only a pending "
            "snapshot can be sent to QA first; move it, or keep it"
        )
    if not claimed:
        _claim(session, change.snapshot_id, change.version)
    session.execute(
        "lead_set_marks",
        {"snapshot_id": change.snapshot_id, "username": change.username, "now": now,
         "reviewed": -1 if change.reviewed is None else int(change.reviewed),
         "qa_first": -1 if change.qa_first is None else int(change.qa_first)},
    )  # fmt: skip


def _change(session: Session, change: Change, trust_lead: bool, now: datetime) -> None:
    if change.product_upc is not None:
        _move(session, change, trust_lead, now)
    _marks(session, change, now, claimed=change.product_upc is not None)


def _undo(
    session: Session, snapshot_id: int, version: int, username: str, reason: str | None,
    now: datetime,
) -> None:  # fmt: skip
    row = _state(session, snapshot_id)
    _check_version(row, version)
    last = session.fetch_one("lead_last_move", {"snapshot_id": snapshot_id, "seq": row["moves"]})
    if last is None:
        raise Conflict(f"snapshot {snapshot_id} was never moved: nothing to undo")
    if last["kind"] != "move" or last["undone_by"] is not None:
        raise Conflict(f"the last move of snapshot {snapshot_id} is undone already")
    holders = qa_moves.lock_holders(session, snapshot_id)
    qa_moves.release(session, holders, now)
    row = _claim(session, snapshot_id, version)
    qa_moves.check_holders(session, snapshot_id, holders)
    undo_id = _record(
        session, row, kind="undo", to_product_id=last["from_product_id"], moved_by=username,
        moved_at=now, reason=reason or f"undo of move {last['id']}", released=holders.count,
        qa_outcome=RESTORED,
    )  # fmt: skip
    qa_moves.archive(session, snapshot_id, undo_id)
    qa_moves.restore(session, snapshot_id, last["id"], undo_id)
    session.execute(
        "lead_apply_undo",
        {"snapshot_id": snapshot_id, "product_id": last["from_product_id"],
         "status": last["held_status"], "votes_match": last["held_votes_match"],
         "votes_mismatch": last["held_votes_mismatch"], "released": holders.count,
         "prior": last["held_prior"], "posterior": last["held_posterior"],
         "verdicts_needed": last["held_verdicts_needed"],
         "settled_by": last["held_settled_by"], "resolved_at": last["held_resolved_at"],
         "reviewed_by": last["held_reviewed_by"], "reviewed_at": last["held_reviewed_at"]},
    )  # fmt: skip
    session.execute(
        "lead_mark_undone", {"snapshot_id": snapshot_id, "seq": last["seq"], "undo_id": undo_id}
    )


async def _run(db: Database, body: Any) -> None:
    for attempt in range(1, ATTEMPTS + 1):
        try:
            return await db.transaction(body)
        except (qa_moves.Retry, LockConflict) as exc:
            log.info("lead change retried", attempt=attempt, reason=type(exc).__name__)
    raise Unavailable("the snapshot is busy in QA right now; try again in a moment")


async def change(db: Database, change: Change, trust_lead: bool, now: datetime) -> None:
    """Apply a lead's change (a move and/or marks) in one transaction."""
    if change.product_upc is None and change.reviewed is None and change.qa_first is None:
        raise InvalidInput("nothing to change: give product_upc, reviewed or qa_first")
    await _run(db, partial(_change, change=change, trust_lead=trust_lead, now=now))


async def undo(
    db: Database, snapshot_id: int, version: int, username: str, reason: str | None,
    now: datetime,
) -> None:  # fmt: skip
    """Undo the snapshot's last move: back to where it was, with the QA state it held then."""
    await _run(db, partial(_undo, snapshot_id=snapshot_id, version=version, username=username,
                           reason=reason, now=now))  # fmt: skip

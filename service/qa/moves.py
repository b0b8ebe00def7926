"""What a lead's move of a snapshot to another product means for QA: transaction steps that
run inside the move's transaction (service/lead/moves.py), and the QA state a move leaves.

A move changes the question QA answers ("is this product X?"), so:

- Verdicts given for the old attribution stop counting toward the snapshot's status. Every
  hand-out of the snapshot is copied to `snapshot_move_assignments` under the move's id and
  taken off `qa_assignments` (`archive`), so QA may be handed it again for the new product.
  Nothing is lost: the leaderboard still credits those verdicts, judged against the status
  the move recorded, and an undo puts them back (`restore`).
- Reservations held by open sessions are released (`release`): the hand-out is withdrawn
  from its session (one snapshot fewer to answer; a session left with nothing to answer is
  completed and its user freed), and a verdict sent for it afterwards is refused with 409
  (the QA page counts that as delivered).
- The QA state starts again (`restart`): pending with no votes, or under QA_TRUST_LEAD
  settled as `match` by the lead (`settled_by` 'lead', `verdicts_needed` 0, which the
  reservation guards read as "needs no one").

Locks are taken in the order every QA transaction uses (service/qa/sessions.py): the sessions
holding the snapshot, their users, the hand-outs, then the snapshot row. Holders are read
without locks first; once the snapshot row is locked, `check_holders` looks again: a session
that reserved the snapshot in between (it locked the snapshot before us) makes the move
start over (`Retry`), since taking that session's lock now would break the order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from service.db import Session
from service.errors import Conflict
from service.qa import voting

QUEUE = "pending"  # what a move does to QA by default
TRUSTED = "lead"  # under QA_TRUST_LEAD


class Retry(Exception):  # noqa: N818 - a signal, not an error
    """A session reserved the snapshot while the move was taking its locks: start over."""


class MovedAway(Conflict):
    def __init__(self) -> None:
        super().__init__(
            "A lead moved this snapshot to another product: this answer is not counted"
        )


@dataclass(frozen=True, slots=True)
class Holders:
    """Open hand-outs of a snapshot, by session, whose sessions this transaction locked."""

    by_session: dict[int, int]  # session id -> open hand-outs of the snapshot in it
    pairs: frozenset[tuple[int, str]]  # (session id, username)

    @property
    def count(self) -> int:
        return sum(self.by_session.values())


def _holders(session: Session, snapshot_id: int) -> tuple[dict[int, int], set[tuple[int, str]]]:
    rows = session.fetch_all("lead_open_holders", {"snapshot_id": snapshot_id})
    counts: dict[int, int] = {}
    for row in rows:
        counts[row["session_id"]] = counts.get(row["session_id"], 0) + 1
    return counts, {(row["session_id"], row["username"]) for row in rows}


def lock_holders(session: Session, snapshot_id: int) -> Holders:
    """Lock the sessions holding the snapshot (ascending id), then read who holds it."""
    first, _ = _holders(session, snapshot_id)
    for session_id in sorted(first):
        session.execute("qa_lock_session", {"session_id": session_id})
    counts, pairs = _holders(session, snapshot_id)
    if set(counts) - set(first):
        raise Retry()  # reserved since the first read, in a session not locked
    return Holders(counts, frozenset(pairs))


def release(session: Session, holders: Holders, now: datetime) -> None:
    """Withdraw the open hand-outs from their sessions (rows go with `archive`); complete a
    session that has nothing left to answer, and free its user for a new one."""
    for session_id, withdrawn in sorted(holders.by_session.items()):
        session.execute("lead_shrink_session", {"session_id": session_id, "withdrawn": withdrawn})
        state = session.fetch_one("qa_session_by_id", {"session_id": session_id})
        assert state is not None
        if state["status"] == "open" and state["size"] <= state["answered"]:
            session.execute("qa_complete_session", {"session_id": session_id, "now": now})
            session.execute(
                "qa_release_user", {"username": state["username"], "session_id": session_id}
            )


def check_holders(session: Session, snapshot_id: int, holders: Holders) -> None:
    """With the snapshot row locked: nobody holds it but the holders this move released."""
    _, pairs = _holders(session, snapshot_id)
    if pairs - holders.pairs:
        raise Retry()


def archive(session: Session, snapshot_id: int, move_id: int) -> None:
    """Take every hand-out off the snapshot, keeping a copy under the move."""
    params = {"snapshot_id": snapshot_id, "move_id": move_id}
    session.execute("lead_archive_assignments", params)
    session.execute("lead_drop_assignments", {"snapshot_id": snapshot_id})


def restore(session: Session, snapshot_id: int, move_id: int, undo_id: int) -> None:
    """Undo: put back the hand-outs `move_id` took off (after `archive` emptied the table)."""
    params = {"snapshot_id": snapshot_id, "move_id": move_id}
    session.execute("lead_restore_assignments", params)
    session.execute("lead_mark_restored", {**params, "undo_id": undo_id})


def restart(trust_lead: bool, now: datetime) -> dict[str, Any]:
    """The snapshot's QA columns after a move (see the module docstring)."""
    if trust_lead:
        return {
            "status": voting.MATCH,
            "settled_by": TRUSTED,
            "resolved_at": now,
            "verdicts_needed": 0,
            "qa_outcome": TRUSTED,
        }
    return {
        "status": voting.PENDING,
        "settled_by": None,
        "resolved_at": None,
        "verdicts_needed": None,
        "qa_outcome": QUEUE,
    }


def moved_away(session: Session, snapshot_id: int, username: str, session_id: int) -> bool:
    """Whether a move took this hand-out off the snapshot (for the vote's answer)."""
    params = {"snapshot_id": snapshot_id, "username": username, "session_id": session_id}
    return session.fetch_one("lead_moved_hand_out", params) is not None

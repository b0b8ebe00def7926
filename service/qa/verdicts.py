"""Record a reviewer's verdict, inside its transaction (`record`).

A verdict is recorded by `UPDATE qa_assignments ... WHERE is_match IS NULL`, so a retried or
duplicated PATCH counts once (409 for the second). It takes its session row before it reads
anything (lock order, see service/qa/sessions.py): a lead's move withdraws hand-outs under that
lock (service/qa/moves.py), so a hand-out read before it could be one a move has taken since,
in a session the move completed, and the verdict would be refused as "expired".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from service.db import Session
from service.qa import moves
from service.qa.deciding import ConsensusRule
from service.qa.errors import EXPIRED, AlreadyAnswered, Expired, NotInSession


@dataclass(frozen=True, slots=True)
class Verdict:
    username: str
    session_id: int
    snapshot_id: int
    is_match: bool

    @property
    def key(self) -> dict[str, object]:
        return {"snapshot_id": self.snapshot_id, "username": self.username}


def _moved(session: Session, verdict: Verdict) -> bool:
    return moves.moved_away(session, verdict.snapshot_id, verdict.username, verdict.session_id)


def _check_hand_out(session: Session, verdict: Verdict) -> None:
    """The verdict is for an open hand-out of this session, or the refusal says why not."""
    found = session.fetch_one("qa_assignment", verdict.key)
    if found is None or found["session_id"] != verdict.session_id:
        if _moved(session, verdict):
            raise moves.MovedAway()  # 409: a lead moved it; the QA page counts it as sent
        raise NotInSession()
    if found["is_match"] is not None:
        raise AlreadyAnswered()
    if found["released"]:
        if _moved(session, verdict):
            raise moves.MovedAway()  # moved, then undone: the hand-out came back released
        raise NotInSession(EXPIRED)


def _count_answer(session: Session, verdict: Verdict, now: datetime, ttl: timedelta) -> None:
    """Count the answer on the session: it changes a counter, so its rowcount is reliable on
    MySQL-protocol servers (a no-op lock reports 0 changed rows there)."""
    counted = session.execute(
        "qa_count_answer",
        {"session_id": verdict.session_id, "username": verdict.username, "now": now,
         "cutoff": now - ttl},
    )  # fmt: skip
    if counted.rowcount != 1:
        again = session.fetch_one("qa_assignment", verdict.key)
        if again is not None and again["is_match"] is not None:
            raise AlreadyAnswered()  # a duplicate PATCH completed the session first
        raise Expired()


def _remaining(session: Session, verdict: Verdict, now: datetime) -> int:
    """The session's unanswered count; a session with none left is completed."""
    state = session.fetch_one("qa_session_by_id", {"session_id": verdict.session_id})
    assert state is not None
    remaining = state["size"] - state["answered"]
    if remaining <= 0:
        session.execute("qa_complete_session", {"session_id": verdict.session_id, "now": now})
        session.execute(
            "qa_release_user", {"username": verdict.username, "session_id": verdict.session_id}
        )
    return max(remaining, 0)


def record(
    session: Session, verdict: Verdict, rule: ConsensusRule, now: datetime, ttl: timedelta
) -> int:
    """Record the verdict and count it; returns the session's unanswered count."""
    session.execute("qa_lock_session", {"session_id": verdict.session_id})
    _check_hand_out(session, verdict)
    _count_answer(session, verdict, now, ttl)
    recorded = session.execute(
        "qa_record_verdict",
        {**verdict.key, "session_id": verdict.session_id, "is_match": int(verdict.is_match),
         "now": now},
    )  # fmt: skip
    if recorded.rowcount != 1:
        raise AlreadyAnswered()  # rolls back the answer count
    session.execute(
        "qa_count_verdict",
        {"snapshot_id": verdict.snapshot_id, "match": int(verdict.is_match),
         "mismatch": int(not verdict.is_match)},
    )  # fmt: skip
    rule.count(session, verdict.snapshot_id, verdict.username, now)
    return _remaining(session, verdict, now)

"""QA sessions: hand snapshots out, record verdicts, release idle sessions.

The flow reads the clock (`utcnow`) once per request and hands `now` down; the rooms hold the
rest: reservation (service/qa/reservation.py), verdicts (verdicts.py), expiry (expiry.py),
the consensus rule that settles (deciding.py), the refusals (errors.py), the rules (rules.py).
`_create` and the rooms' bodies are transaction bodies (sync, run by `db.transaction` on a
worker thread). Why they stay correct under concurrency, on SQLite (writes serialised:
trivially) and on SingleStore (READ COMMITTED, row locks on write):

- Reservation re-checks its condition on the locked, current row, so two sessions racing for
  the last slot cannot both win; candidates from a stale read only cost a retry. Under
  QA_CONSENSUS=assisted the limit is the row's own `verdicts_needed` (service/qa/assisted.py).
- "One open session per user" is the conditional `UPDATE qa_users SET open_session_id = ?
  WHERE open_session_id IS NULL`; "never the same snapshot twice" is the primary key
  (snapshot_id, username) of qa_assignments, checked again once the reservation holds the
  snapshot row (a lead's undo may have given the user's old hand-out back since the pick).
- A verdict is recorded by `UPDATE qa_assignments ... WHERE is_match IS NULL`, so a retried
  or duplicated PATCH counts once (409 for the second).
- Every transaction takes row locks in one order: session row, user row, assignment rows,
  snapshot rows (ascending id). So none can wait on another in a cycle. A verdict takes its
  session row before it reads anything, so what it reads no move can have changed since.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime
from functools import partial

from service.clock import utcnow
from service.db import Database, Row, Session
from service.qa import deciding, expiry
from service.qa.deciding import ConsensusRule
from service.qa.errors import (
    EXPIRED,
    AlreadyAnswered,
    Expired,
    NoOpenSession,
    NothingToValidate,
    NotInSession,
    SessionExists,
)
from service.qa.reservation import reserve
from service.qa.retry import transaction_with_retry
from service.qa.rules import Rules
from service.qa.verdicts import Verdict, record

__all__ = [
    "AlreadyAnswered",
    "NoOpenSession",
    "NotInSession",
    "NothingToValidate",
    "Rules",
    "SessionExists",
    "SessionView",
    "create_session",
    "current_session",
    "settle_decided",
    "sweep",
    "vote",
]


@dataclass(frozen=True, slots=True)
class SessionView:
    session_id: int
    remaining: int
    items: list[Row]  # unanswered snapshots with their product, in hand-out order


def _items(session: Session, session_id: int) -> list[Row]:
    return session.fetch_all("qa_session_items", {"session_id": session_id})


# -- create ---------------------------------------------------------------------------------


def _create(
    session: Session,
    username: str,
    rules: Rules,
    rule: ConsensusRule,
    now: datetime,
    rng: random.Random,
) -> SessionView:
    session.execute("qa_ensure_user", {"username": username, "now": now})
    created = session.execute("qa_insert_session", {"username": username, "now": now})
    session_id = created.lastrowid
    assert session_id is not None
    claimed = session.execute("qa_claim_user", {"username": username, "session_id": session_id})
    if claimed.rowcount != 1:
        raise SessionExists()  # rolls back the session row too
    taken = reserve(session, username, rules, rule, rng)
    if not taken:
        raise NothingToValidate()
    # Snapshots of one product in a row: the reviewer's eye stays on one reference image.
    taken.sort(key=lambda row: (row["product_id"], row["id"]))
    session.execute_many(
        "qa_insert_assignment",
        [
            {"snapshot_id": row["id"], "username": username, "session_id": session_id,
             "position": position, "now": now}
            for position, row in enumerate(taken)
        ],
    )  # fmt: skip
    session.execute("qa_set_session_size", {"session_id": session_id, "size": len(taken)})
    return SessionView(session_id, len(taken), _items(session, session_id))


async def create_session(
    db: Database, username: str, rules: Rules, rng: random.Random | None = None
) -> SessionView:
    """Start a session for `username`: SessionExists or NothingToValidate if it cannot."""
    now = utcnow()
    await expiry.sweep(db, rules.ttl, now)
    rule = await deciding.load(db, rules)
    body = partial(_create, username=username, rules=rules, rule=rule, now=now,
                   rng=rng or random.Random())  # fmt: skip
    try:
        return await transaction_with_retry(db, body)
    finally:
        await rule.handed_out(db, now)


# -- read -----------------------------------------------------------------------------------


def _current(session: Session, username: str) -> SessionView | None:
    row = session.fetch_one("qa_open_session", {"username": username})
    if row is None:
        return None
    return SessionView(row["id"], row["size"] - row["answered"], _items(session, row["id"]))


async def current_session(db: Database, username: str, rules: Rules) -> SessionView:
    """The user's unfinished session (idle ones are released first); NoOpenSession if none."""
    await expiry.sweep(db, rules.ttl, utcnow())
    view = await db.read(partial(_current, username=username))
    if view is None:
        raise NoOpenSession()
    return view


# -- vote -----------------------------------------------------------------------------------


async def vote(
    db: Database, username: str, session_id: int, snapshot_id: int, is_match: bool, rules: Rules
) -> int:
    """Record a verdict; returns how many snapshots of the session remain unanswered."""
    now = utcnow()
    rule = await deciding.load(db, rules)
    verdict = Verdict(username, session_id, snapshot_id, is_match)
    body = partial(record, verdict=verdict, rule=rule, now=now, ttl=rules.ttl)
    try:
        remaining = await transaction_with_retry(db, body)
    except Expired:
        await expiry.expire_one(db, session_id, now, rules.ttl)
        raise NotInSession(EXPIRED) from None
    rule.noted(db)
    return remaining


# -- sweeps ---------------------------------------------------------------------------------


async def sweep(db: Database, rules: Rules, limit: int = 200, now: datetime | None = None) -> int:
    """Expire sessions idle longer than the TTL (at `now`, else the clock's now); returns how
    many were closed."""
    return await expiry.sweep(db, rules.ttl, now or utcnow(), limit)


async def settle_decided(
    db: Database, rules: Rules, limit: int = 200, now: datetime | None = None
) -> int:
    """The consensus rule's sweep: the majority rule settles pending snapshots whose verdicts
    already hold a majority (the assisted rule leaves them); returns how many. From the
    sweeper only."""
    return await deciding.sweep(db, rules, now or utcnow(), limit)

"""QA sessions: hand snapshots out, record verdicts, release idle sessions.

The `_create`, `_vote` and `_expire` functions are transaction bodies (sync, run by
`db.transaction` on a worker thread). Why they stay correct under concurrency, on SQLite
(writes serialised: trivially) and on SingleStore (READ COMMITTED, row locks on write):

- Reservation is `UPDATE snapshots SET reserved = reserved + 1 WHERE id = ? AND <it still
  needs more verdicts than it has reservations>`: the condition is re-checked on the locked,
  current row, so two sessions racing for the last slot cannot both win (rowcount says who
  did). Candidates come from a plain, possibly stale read; that only costs a retry. Under
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
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import partial
from typing import TypeVar

import structlog

from service.clock import utcnow
from service.config import Settings
from service.db import Database, LockConflict, Row, Session
from service.errors import Conflict, InvalidInput, NotFound
from service.qa import assisted, moves, voting
from service.qa.picking import PickRequest, picker_for

log = structlog.get_logger(__name__)

T = TypeVar("T")


class SessionExists(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Session already exists")


class NothingToValidate(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Not enough snapshots to validate")


class NoOpenSession(NotFound):
    def __init__(self) -> None:
        super().__init__("No open session")


class NotInSession(NotFound):
    def __init__(self, detail: str = "Snapshot not found in this session") -> None:
        super().__init__(detail)


class AlreadyAnswered(Conflict):
    def __init__(self) -> None:
        super().__init__("Snapshot already answered")


@dataclass(frozen=True, slots=True)
class Rules:
    size: int
    votes: int
    ttl: timedelta
    priority: str = "random"
    consensus: str = "majority"  # or "assisted" (service/qa/consensus.py)
    confidence: float = 0.99  # the assisted rule's posterior threshold
    model: str = ""  # the embedder whose suspicion scores feed the assisted rule's prior

    @classmethod
    def from_settings(cls, settings: Settings, model: str = "") -> Rules:
        return cls(
            size=settings.qa_session_size,
            votes=settings.qa_votes,
            ttl=timedelta(seconds=settings.qa_session_ttl),
            priority=settings.qa_priority,
            consensus=settings.qa_consensus,
            confidence=settings.qa_confidence,
            model=model,
        )

    @property
    def assisted(self) -> bool:
        return self.consensus == "assisted"

    @property
    def majority(self) -> int:
        return voting.majority(self.votes)


@dataclass(frozen=True, slots=True)
class SessionView:
    session_id: int
    remaining: int
    items: list[Row]  # unanswered snapshots with their product, in hand-out order


async def _transaction_with_retry(db: Database, fn: Callable[[Session], T], attempts: int = 3) -> T:
    """Run a transaction, again if it lost a lock conflict: a deadlock victim (MariaDB can be
    one through its unique-index checks, even with consistent lock order) or a lock wait
    timeout (SingleStore has no deadlock detector: a cycle ends as errno 1205)."""
    for attempt in range(1, attempts + 1):
        try:
            return await db.transaction(fn)
        except LockConflict as exc:
            if attempt == attempts:
                raise
            log.info("qa transaction retried after a lock conflict", attempt=attempt,
                     error=str(exc))  # fmt: skip
    raise AssertionError("unreachable")


# -- create ---------------------------------------------------------------------------------


async def _policy(db: Database, rules: Rules) -> assisted.Policy | None:
    """What the assisted rule needs for one transaction (None under the majority rule)."""
    if not rules.assisted:
        return None
    known = await assisted.knowledge(db, rules.model)
    return assisted.Policy(rules.votes, rules.confidence, rules.model, known)


def _take(
    session: Session, snapshot_id: int, username: str, rules: Rules,
    policy: assisted.Policy | None,
) -> bool:  # fmt: skip
    if policy is not None:
        taken = assisted.reserve(session, snapshot_id, policy)
    else:
        params = {"snapshot_id": snapshot_id, "majority": rules.majority}
        taken = session.execute("qa_reserve", params).rowcount == 1
    if taken and _had(session, snapshot_id, username):
        session.execute("qa_unreserve", {"snapshot_id": snapshot_id})
        return False
    return taken


def _had(session: Session, snapshot_id: int, username: str) -> bool:
    """Whether the user holds a hand-out of the snapshot after all. The candidates' "never had
    it" was a plain read; a lead's undo may have given a hand-out back since (it restores them
    under the snapshot's lock, which the reservation now holds, so this read is current)."""
    key = {"snapshot_id": snapshot_id, "username": username}
    return session.fetch_one("qa_assignment", key) is not None


def _reserve(
    session: Session,
    username: str,
    rules: Rules,
    rng: random.Random,
    policy: assisted.Policy | None = None,
) -> list[Row]:
    """Reserve up to `rules.size` snapshots for this user; returns the reserved rows.

    Candidates are taken in the picker's order (random, or most suspicious first), but each
    round locks its rows in ascending id order and never goes below an id already tried, so
    two sessions reserving at once always lock in the same order and cannot deadlock.
    Without contention (always, on SQLite) the first round reserves the picker's top rows.
    """
    want = rules.size
    # Over-fetch a little: under concurrency some candidates are taken before we get to them.
    limit = want + want // 2 + 8
    request = PickRequest(username, rules.majority, limit, rng, assisted=policy is not None)
    if policy is not None and policy.known.early:  # the first hand-outs teach the most
        request = replace(request, spread_model=rules.model)
    offered = picker_for(rules.priority)(session, request)
    taken: list[Row] = []
    last_tried = 0
    remaining = offered
    while len(taken) < want:
        need = want - len(taken)
        batch = [row for row in remaining if row["id"] > last_tried][:need]
        if not batch:
            break
        chosen = {row["id"] for row in batch}
        remaining = [row for row in remaining if row["id"] not in chosen]
        for row in sorted(batch, key=lambda r: r["id"]):
            last_tried = row["id"]
            if _take(session, row["id"], username, rules, policy):
                taken.append(row)
    if len(taken) < want and len(offered) == limit:
        # Short because others won races, and the picker may have had more to offer: top up
        # in id order above every id tried so far.
        more = session.fetch_all(
            "qa_pick_after_id",
            {"username": username, "majority": rules.majority, "after_id": last_tried,
             "limit": 2 * (want - len(taken)) + 8, "assisted": int(policy is not None)},
        )  # fmt: skip
        for row in more:
            if len(taken) == want:
                break
            if _take(session, row["id"], username, rules, policy):
                taken.append(row)
    return taken


def _items(session: Session, session_id: int) -> list[Row]:
    return session.fetch_all("qa_session_items", {"session_id": session_id})


def _create(
    session: Session,
    username: str,
    rules: Rules,
    now: datetime,
    rng: random.Random,
    policy: assisted.Policy | None = None,
) -> SessionView:
    session.execute("qa_ensure_user", {"username": username, "now": now})
    created = session.execute("qa_insert_session", {"username": username, "now": now})
    session_id = created.lastrowid
    assert session_id is not None
    claimed = session.execute("qa_claim_user", {"username": username, "session_id": session_id})
    if claimed.rowcount != 1:
        raise SessionExists()  # rolls back the session row too
    taken = _reserve(session, username, rules, rng, policy)
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
    await sweep(db, rules)
    policy = await _policy(db, rules)
    body = partial(_create, username=username, rules=rules, now=utcnow(),
                   rng=rng or random.Random(), policy=policy)  # fmt: skip
    try:
        return await _transaction_with_retry(db, body)
    finally:
        if policy is not None and policy.ready:  # found settled by what has been learnt
            await _settle_ready(db, policy)


async def _settle_ready(db: Database, policy: assisted.Policy) -> None:
    """Settle what a hand-out found settled; on a lost lock conflict the snapshots stay pending
    and the next hand-out that offers them tries again."""
    try:
        await _transaction_with_retry(db, partial(assisted.settle_ready, policy=policy,
                                                  now=utcnow()))  # fmt: skip
    except LockConflict:
        log.info("qa snapshots left for the next hand-out to settle", snapshots=len(policy.ready))


# -- read -----------------------------------------------------------------------------------


def _current(session: Session, username: str) -> SessionView | None:
    row = session.fetch_one("qa_open_session", {"username": username})
    if row is None:
        return None
    return SessionView(row["id"], row["size"] - row["answered"], _items(session, row["id"]))


async def current_session(db: Database, username: str, rules: Rules) -> SessionView:
    """The user's unfinished session (idle ones are released first); NoOpenSession if none."""
    await sweep(db, rules)
    view = await db.read(partial(_current, username=username))
    if view is None:
        raise NoOpenSession()
    return view


# -- vote -----------------------------------------------------------------------------------


class _Expired(Exception):
    """The session is idle past its TTL: release it, then answer 404."""


def _vote(
    session: Session,
    username: str,
    session_id: int,
    snapshot_id: int,
    is_match: bool,
    rules: Rules,
    now: datetime,
    policy: assisted.Policy | None = None,
) -> int:
    """Returns the session's unanswered count."""
    # The session row first (lock order), and only then read the hand-out: a lead's move
    # withdraws hand-outs under this lock (service/qa/moves.py), so a hand-out read before it
    # could be one a move has taken since, in a session the move completed ("expired").
    session.execute("qa_lock_session", {"session_id": session_id})
    key = {"snapshot_id": snapshot_id, "username": username}
    assignment = session.fetch_one("qa_assignment", key)
    if assignment is None or assignment["session_id"] != session_id:
        if moves.moved_away(session, snapshot_id, username, session_id):
            raise moves.MovedAway()  # 409: a lead moved it; the QA page counts it as sent
        raise NotInSession()
    if assignment["is_match"] is not None:
        raise AlreadyAnswered()
    if assignment["released"]:
        if moves.moved_away(session, snapshot_id, username, session_id):
            raise moves.MovedAway()  # moved, then undone: the hand-out came back released
        raise NotInSession("Session expired; start a new one")
    # Count the answer on the session: it changes a counter, so its rowcount is reliable on
    # MySQL-protocol servers (the no-op lock above reports 0 changed rows there).
    counted = session.execute(
        "qa_count_answer",
        {"session_id": session_id, "username": username, "now": now, "cutoff": now - rules.ttl},
    )
    if counted.rowcount != 1:
        again = session.fetch_one("qa_assignment", key)
        if again is not None and again["is_match"] is not None:
            raise AlreadyAnswered()  # a duplicate PATCH completed the session first
        raise _Expired()
    recorded = session.execute(
        "qa_record_verdict", {**key, "session_id": session_id, "is_match": int(is_match),
                              "now": now},
    )  # fmt: skip
    if recorded.rowcount != 1:
        raise AlreadyAnswered()  # rolls back the answer count
    session.execute(
        "qa_count_verdict",
        {"snapshot_id": snapshot_id, "match": int(is_match), "mismatch": int(not is_match)},
    )
    if policy is not None:
        assisted.count(session, snapshot_id, username, policy, now)
    else:
        votes = session.fetch_one("qa_snapshot_votes", {"snapshot_id": snapshot_id})
        assert votes is not None
        decided = voting.status(votes["votes_match"], votes["votes_mismatch"], rules.votes)
        settled = votes["status"] == voting.PENDING and decided != voting.PENDING
        if settled:
            session.execute(
                "qa_resolve_snapshot", {"snapshot_id": snapshot_id, "status": decided, "now": now}
            )
    state = session.fetch_one("qa_session_by_id", {"session_id": session_id})
    assert state is not None
    remaining = state["size"] - state["answered"]
    if remaining <= 0:
        session.execute("qa_complete_session", {"session_id": session_id, "now": now})
        session.execute("qa_release_user", {"username": username, "session_id": session_id})
    return max(remaining, 0)


async def vote(
    db: Database, username: str, session_id: int, snapshot_id: int, is_match: bool, rules: Rules
) -> int:
    """Record a verdict; returns how many snapshots of the session remain unanswered."""
    now = utcnow()
    policy = await _policy(db, rules)
    body = partial(_vote, username=username, session_id=session_id, snapshot_id=snapshot_id,
                   is_match=is_match, rules=rules, now=now, policy=policy)  # fmt: skip
    try:
        remaining = await _transaction_with_retry(db, body)
    except _Expired:
        await db.transaction(partial(_expire, session_id=session_id, now=now,
                                     cutoff=now - rules.ttl))  # fmt: skip
        raise NotInSession("Session expired; start a new one") from None
    if policy is not None:
        assisted.learner_for(db).noted()  # what is learnt grows with every verdict
    return remaining


# -- TTL release ----------------------------------------------------------------------------


def _expire(session: Session, session_id: int, now: datetime, cutoff: datetime) -> int | None:
    """Close one idle session and release its unanswered snapshots; returns how many (None:
    the session was answered or closed meanwhile)."""
    params = {"session_id": session_id, "now": now, "cutoff": cutoff}
    if session.execute("qa_expire_session", params).rowcount != 1:
        return None
    state = session.fetch_one("qa_session_by_id", {"session_id": session_id})
    assert state is not None
    session.execute("qa_release_user", {"username": state["username"], "session_id": session_id})
    unanswered = session.fetch_all("qa_unanswered_snapshots", {"session_id": session_id})
    session.execute("qa_release_assignments", {"session_id": session_id})
    session.execute_many("qa_unreserve", [{"snapshot_id": r["snapshot_id"]} for r in unanswered])
    return len(unanswered)


async def settle_decided(db: Database, rules: Rules, limit: int = 200) -> int:
    """Majority rule: settle pending snapshots whose verdicts already hold a majority (only
    the assisted rule leaves them, before a switch back); returns how many. One snapshot per
    statement, by id: no range of rows locked while reviewers vote. From the sweeper only."""
    if rules.assisted:
        return 0
    params = {"majority": rules.majority, "limit": limit}
    settled = 0
    for row in await db.fetch_all("qa_decided_pending", params):
        try:
            result = await db.execute(
                "qa_settle_decided",
                {"snapshot_id": row["id"], "majority": rules.majority, "now": utcnow()},
            )
        except LockConflict:  # a reviewer holds it now: the next sweep tries again
            continue
        settled += result.rowcount
    if settled:
        log.info("qa snapshots settled by their majority", snapshots=settled)
    return settled


async def sweep(db: Database, rules: Rules, limit: int = 200) -> int:
    """Expire sessions idle longer than the TTL; returns how many were closed."""
    now = utcnow()
    cutoff = now - rules.ttl
    idle = await db.fetch_all("qa_idle_sessions", {"cutoff": cutoff, "limit": limit})
    closed = 0
    for row in idle:
        released = await db.transaction(
            partial(_expire, session_id=row["id"], now=now, cutoff=cutoff)
        )
        if released is not None:
            closed += 1
            log.info("qa session expired", session_id=row["id"], released=released)
    return closed

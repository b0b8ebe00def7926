"""QA_CONSENSUS=assisted against the database: what has been learnt, reservation and votes.

What is learnt (the prior's calibration and each reviewer's reliability) is read from the
resolved snapshots by two aggregate queries and kept per open database, refreshed when it is
REFRESH_SECONDS old or the history has grown by a twentieth since (`Learner`). Transaction bodies
take an immutable `Knowledge`, so a refresh never changes anything mid-transaction.

Every value a snapshot's reservation limit depends on is on its row or its verdicts' rows:
the prior is fixed the first time it is handed out (and taken afresh at a verdict only when
that cannot leave it held by more reviewers than it then needs), and each verdict keeps the
reliability it was counted with. So the limit (`verdicts_needed`) is a function of the row,
written in the same transaction as any verdict, and the reservation guard is one conditional
UPDATE on it.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from service.db import Database, Row, Session
from service.qa import consensus, voting
from service.qa.consensus import Bin, Calibration, calibrate

REFRESH_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Knowledge:
    calibration: Calibration = consensus.NO_HISTORY
    reliabilities: dict[str, float] = field(default_factory=dict)
    history: int = 0  # resolved snapshots with a score behind the calibration

    def reliability(self, username: str) -> float:
        return self.reliabilities.get(username, consensus.NEW_REVIEWER)


def _read_knowledge(session: Session, model: str) -> Knowledge:
    bins: dict[float, Bin] = {}
    for row in session.fetch_all("qa_prior_history", {"model": model}):
        key = consensus.level(float(row["level"]))
        old = bins.get(key, Bin(0, 0))  # two SQL levels may round to one key at the edges
        bins[key] = Bin(old.resolved + int(row["resolved"]), old.matches + int(row["matches"] or 0))
    reliabilities = {
        row["username"]: consensus.reliability(int(row["judged"] or 0), float(row["agreed"] or 0))
        for row in session.fetch_all("qa_reviewer_agreement")
    }
    history = sum(b.resolved for b in bins.values())
    return Knowledge(calibrate(bins), reliabilities, history)


class Learner:
    """The latest Knowledge of one database, and when to read it again."""

    def __init__(self) -> None:
        self.knowledge = Knowledge()
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._resolved_since = 0
        self._reading = False

    def resolved(self) -> None:
        with self._lock:
            self._resolved_since += 1

    def _due(self) -> bool:
        if self._read_at is None or time.monotonic() - self._read_at >= REFRESH_SECONDS:
            return True
        return self._resolved_since >= max(5, self.knowledge.history // 20)

    async def refresh(self, read: Callable[[Callable[[Session], Knowledge]], Awaitable[Knowledge]],
                      model: str) -> Knowledge:  # fmt: skip
        """Read the knowledge again if it is due; returns the latest. Until the first read has
        finished every caller reads (nothing may run on an empty history by accident); after
        that, one reader at a time while the others use what is there."""
        with self._lock:
            first = self._read_at is None
            if not first and (self._reading or not self._due()):
                return self.knowledge
            self._reading, self._resolved_since = True, 0
        try:
            knowledge = await read(lambda session: _read_knowledge(session, model))
            with self._lock:
                # The one reader after the first read always wins: history can also shrink (a
                # re-attribution, `reembed --prune`). Concurrent first reads keep the fuller.
                if not first or knowledge.history >= self.knowledge.history:
                    self.knowledge = knowledge
                self._read_at = time.monotonic()
        finally:
            with self._lock:
                self._reading = False
        return self.knowledge


_LEARNERS: weakref.WeakKeyDictionary[Database, Learner] = weakref.WeakKeyDictionary()
_LEARNERS_LOCK = threading.Lock()


def learner_for(db: Database) -> Learner:
    with _LEARNERS_LOCK:
        found = _LEARNERS.get(db)
        if found is None:
            found = _LEARNERS[db] = Learner()
        return found


async def knowledge(db: Database, model: str) -> Knowledge:
    return await learner_for(db).refresh(db.read, model)


@dataclass(frozen=True, slots=True)
class Policy:
    """The assisted rule's settings, and what is known, for one transaction."""

    votes: int
    threshold: float
    model: str
    known: Knowledge


def _verdicts(session: Session, snapshot_id: int, known: Knowledge) -> list[tuple[bool, float]]:
    rows = session.fetch_all("qa_snapshot_verdicts", {"snapshot_id": snapshot_id})
    return [
        (
            bool(row["is_match"]),
            known.reliability(row["username"])
            if row["reliability"] is None
            else float(row["reliability"]),
        )
        for row in rows
    ]


def _prior(state: Row, policy: Policy) -> float:
    if state["prior"] is not None:
        return float(state["prior"])
    suspicion = None if state["suspicion"] is None else float(state["suspicion"])
    return policy.known.calibration.prior(suspicion)


def reserve(session: Session, snapshot_id: int, policy: Policy) -> bool:
    """Take one reservation if the snapshot can still use one (assessing it first if this is
    its first hand-out under the assisted rule). Race-free: see qa_reserve_assisted."""
    state = session.fetch_one(
        "qa_consensus_state", {"snapshot_id": snapshot_id, "model": policy.model}
    )
    if state is None or state["status"] != voting.PENDING:
        return False
    if state["verdicts_needed"] is None:
        matches, mismatches = state["votes_match"], state["votes_mismatch"]
        prior = _prior(state, policy)
        given = _verdicts(session, snapshot_id, policy.known) if matches + mismatches else []
        p = consensus.posterior(prior, given)
        needed = consensus.verdicts_needed(p, matches, mismatches, policy.votes, policy.threshold)
        session.execute(
            "qa_assess_snapshot",
            {"snapshot_id": snapshot_id, "prior": prior, "posterior": p,
             "verdicts_needed": needed, "votes_match": matches, "votes_mismatch": mismatches},
        )  # fmt: skip
    return session.execute("qa_reserve_assisted", {"snapshot_id": snapshot_id}).rowcount == 1


def count(
    session: Session, snapshot_id: int, username: str, policy: Policy, now: datetime
) -> consensus.Decision | None:
    """After a verdict is recorded and counted on the (locked) row: note the reliability it
    counts with, update the posterior and limit, settle if the rule says so. Returns the
    decision, or None when the snapshot was already settled."""
    reliability = policy.known.reliability(username)
    session.execute(
        "qa_record_reliability",
        {"snapshot_id": snapshot_id, "username": username, "reliability": reliability},
    )
    state = session.fetch_one(
        "qa_consensus_state", {"snapshot_id": snapshot_id, "model": policy.model}
    )
    assert state is not None
    if state["status"] != voting.PENDING:
        return None
    matches, mismatches = state["votes_match"], state["votes_mismatch"]
    given = _verdicts(session, snapshot_id, policy.known)
    prior = _prior(state, policy)
    fresh = _prior({**state, "prior": None}, policy)
    if fresh != prior:
        # The calibration has learnt since the prior was fixed. Take the new one unless that
        # would leave the snapshot held by more reviewers than it then needs.
        p = consensus.posterior(fresh, given)
        needed = consensus.verdicts_needed(p, matches, mismatches, policy.votes, policy.threshold)
        if needed >= state["reserved"]:
            prior = fresh
    p = consensus.posterior(prior, given)
    decision = consensus.settle(p, matches, mismatches, policy.votes, policy.threshold)
    params = {"snapshot_id": snapshot_id, "prior": prior, "posterior": p}
    if decision.status == voting.PENDING:
        needed = consensus.verdicts_needed(p, matches, mismatches, policy.votes, policy.threshold)
        session.execute("qa_update_consensus", {**params, "verdicts_needed": needed})
    else:
        session.execute(
            "qa_resolve_assisted",
            {**params, "status": decision.status, "settled_by": decision.settled_by, "now": now},
        )
    return decision

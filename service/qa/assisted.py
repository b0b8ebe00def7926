"""QA_CONSENSUS=assisted against the database: reservation and votes, inside the session
flow's transactions (what is learnt, and when it is refitted: service/qa/learning.py).

Every value a snapshot's reservation limit depends on is on its row or its verdicts' rows: the
prior and posterior, and the reliability each verdict was counted with. The prior is taken
afresh, from the latest calibration, whenever that cannot leave the snapshot held by more
reviewers than it then needs: when nobody holds it (at a hand-out, where the snapshot may then
settle with the verdicts it has, if what has been learnt since says they suffice), and at a
verdict if the fresh limit is no lower than the holders left. So the limit (`verdicts_needed`)
is a function of the row, written in the same transaction as any change to it, and the
reservation guard is one conditional UPDATE on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from service.db import Row, Session
from service.qa import consensus, voting
from service.qa.learning import (  # noqa: F401 - re-exported: callers know them from here
    LEARNING_EVIDENCE,
    MIN_NEW_VERDICTS,
    REFRESH_SECONDS,
    SPREAD_UNTIL,
    Knowledge,
    Learner,
    knowledge,
    learner_for,
    read_evidence,
)
from service.qa.learning import suspicion_of as _suspicion


@dataclass(frozen=True, slots=True)
class Policy:
    """The assisted rule's settings, and what is known, for one transaction (one request)."""

    votes: int
    threshold: float
    model: str
    known: Knowledge
    # Snapshots a hand-out found settled by their verdicts under what is known now; they are
    # settled after the session's transaction (settle_ready), whether it hands anything out.
    ready: set[int] = field(default_factory=set)


def _verdicts(session: Session, snapshot_id: int, known: Knowledge) -> list[tuple[bool, float]]:
    """The snapshot's verdicts, each with the reliability it was counted with (the reviewer's
    current one for a verdict counted under the majority rule)."""
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


def _limit(prior: float, given: list[tuple[bool, float]], state: Row, policy: Policy) -> int:
    learning = policy.known.learning(_suspicion(state))
    return consensus.limit(prior, given, policy.votes, policy.threshold, learning)


@dataclass(frozen=True, slots=True)
class _Assessment:
    """A snapshot nobody holds, assessed afresh: the prior from the latest calibration, and
    each verdict at its reviewer's latest reliability."""

    decision: consensus.Decision
    verdicts_needed: int
    waits: bool  # its verdicts agree with the prior, which is still being learnt
    params: dict[str, object]  # what qa_assess_snapshot and qa_settle_unheld compare and set
    reliabilities: list[dict[str, object]]  # the verdicts' new qa_record_reliability rows

    def write(self, session: Session, query: str, **more: object) -> bool:
        """Compare-and-set the row (`query`), then record the reliabilities the new posterior
        counts with. The snapshot row is locked first, against the documented order; no
        cycle can follow: the rows written are verdicts given already, which no other
        transaction writes (a reviewer's second verdict on a snapshot is refused)."""
        if session.execute(query, {**self.params, **more}).rowcount != 1:
            return False
        session.execute_many("qa_record_reliability", self.reliabilities)
        return True


def _assess(session: Session, snapshot_id: int, state: Row, policy: Policy) -> _Assessment:
    matches, mismatches = state["votes_match"], state["votes_mismatch"]
    rows = session.fetch_all("qa_snapshot_verdicts", {"snapshot_id": snapshot_id})
    given = [(bool(r["is_match"]), policy.known.reliability(r["username"])) for r in rows]
    suspicion = _suspicion(state)
    prior = policy.known.calibration.prior(suspicion)
    p = consensus.posterior(prior, given)
    decision = consensus.settle(p, matches, mismatches, policy.votes, policy.threshold)
    waits = (policy.known.learning(suspicion) and prior != 0.5 and bool(given)
             and all(is_match == (prior > 0.5) for is_match, _ in given))  # fmt: skip
    seen = -1 if state["verdicts_needed"] is None else state["verdicts_needed"]
    params = {"snapshot_id": snapshot_id, "prior": prior, "posterior": p, "seen_needed": seen,
              "votes_match": matches, "votes_mismatch": mismatches}  # fmt: skip
    reliabilities = [
        {"snapshot_id": snapshot_id, "username": row["username"], "reliability": r}
        for row, (_, r) in zip(rows, given, strict=True)
        if row["reliability"] != r
    ]
    needed = _limit(prior, given, state, policy)
    return _Assessment(decision, needed, waits, params, reliabilities)


def _state(session: Session, snapshot_id: int, policy: Policy) -> Row | None:
    """The snapshot's consensus state if it is still pending."""
    state = session.fetch_one(
        "qa_consensus_state", {"snapshot_id": snapshot_id, "model": policy.model}
    )
    return state if state is not None and state["status"] == voting.PENDING else None


def _teaching(session: Session, snapshot_id: int, state: Row, policy: Policy) -> bool:
    """Whether verdicts that teach the calibration at this snapshot's score are on their way:
    another snapshot of its calibration block is held by a reviewer."""
    low, high = policy.known.calibration.span(float(state["suspicion"]))
    params = {"model": policy.model, "snapshot_id": snapshot_id, "low": low - 0.05,
              "high": high + 0.05}  # fmt: skip
    return session.fetch_one("qa_held_in_span", params) is not None


def reserve(session: Session, snapshot_id: int, policy: Policy) -> bool:
    """Take one reservation if the snapshot can still use one (race-free: the guard of
    qa_reserve_assisted). A snapshot nobody holds is assessed afresh first, and not handed out
    if what is known now says its verdicts already settle it (noted in `policy.ready`), or if
    its verdicts agree with a prior that is still being learnt while verdicts that teach it
    are on their way: they may well settle it without another one. (Then it waits, at most
    until nothing else of its calibration block is held.) One never assessed but held (given
    out under the majority rule before a switch) is assessed as it stands."""
    state = _state(session, snapshot_id, policy)
    if state is None:
        return False
    held = state["reserved"] > 0
    if not held or state["verdicts_needed"] is None:
        fresh = _assess(session, snapshot_id, state, policy)
        if not held and fresh.decision.status != voting.PENDING:
            policy.ready.add(snapshot_id)
            return False
        if not held and fresh.waits and _teaching(session, snapshot_id, state, policy):
            return False
        fresh.write(session, "qa_assess_snapshot", verdicts_needed=fresh.verdicts_needed)
    return session.execute("qa_reserve_assisted", {"snapshot_id": snapshot_id}).rowcount == 1


def settle_ready(session: Session, policy: Policy, now: datetime) -> int:
    """Settle the snapshots of `policy.ready` that still nobody holds and that their verdicts
    still settle (assessed again, compare-and-set); in ascending id order, like every lock on
    snapshots. Returns how many."""
    settled = 0
    for snapshot_id in sorted(policy.ready):
        state = _state(session, snapshot_id, policy)
        if state is None or state["reserved"] != 0:
            continue
        fresh = _assess(session, snapshot_id, state, policy)
        if fresh.decision.status != voting.PENDING:
            decision = fresh.decision
            settled += fresh.write(session, "qa_settle_unheld", status=decision.status,
                                   settled_by=decision.settled_by, now=now)  # fmt: skip
    return settled


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
    fresh = policy.known.calibration.prior(_suspicion(state))
    prior = fresh if state["prior"] is None else float(state["prior"])
    if fresh != prior and _limit(fresh, given, state, policy) >= state["reserved"]:
        # The calibration has learnt since the prior was fixed: take the new one, as that
        # cannot leave the snapshot held by more reviewers than it then needs.
        prior = fresh
    p = consensus.posterior(prior, given)
    decision = consensus.settle(p, matches, mismatches, policy.votes, policy.threshold)
    params = {"snapshot_id": snapshot_id, "prior": prior, "posterior": p}
    if decision.status == voting.PENDING:
        needed = _limit(prior, given, state, policy)
        session.execute("qa_update_consensus", {**params, "verdicts_needed": needed})
    else:
        session.execute(
            "qa_resolve_assisted",
            {**params, "status": decision.status, "settled_by": decision.settled_by, "now": now},
        )
    return decision

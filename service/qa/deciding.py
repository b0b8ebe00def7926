"""The consensus rule as a strategy: what the session flow asks of the rule that settles
snapshots, with the majority rule and the assisted rule (QA_CONSENSUS) behind one interface.

The flow never asks which rule it runs under: it loads the rule for a request (`load`), lets
it reserve (`take`) and count (`count`) inside its transactions, and tells it when those have
ended (`handed_out`, `noted`). The sweeper asks it to settle what it left decided (`sweep`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from functools import partial
from typing import ClassVar, Protocol

import structlog

from service.db import Database, LockConflict, Session
from service.qa import assisted, voting
from service.qa.picking import PickRequest
from service.qa.retry import transaction_with_retry
from service.qa.rules import Rules

log = structlog.get_logger(__name__)


class ConsensusRule(Protocol):
    assisted: ClassVar[bool]  # the pickers' and SQL guards' `:assisted`: whose limit applies
    majority: int  # agreeing verdicts that settle a snapshot under QA_VOTES

    def pick(self, request: PickRequest) -> PickRequest:
        """The picker's request under this rule."""
        ...

    def take(self, session: Session, snapshot_id: int) -> bool:
        """Take one reservation if the snapshot can still use one (locks its row)."""
        ...

    def count(self, session: Session, snapshot_id: int, username: str, now: datetime) -> None:
        """After a verdict is counted on the (locked) snapshot row: settle it if decided."""
        ...

    async def handed_out(self, db: Database, now: datetime) -> None:
        """After a hand-out's transaction, committed or not."""
        ...

    def noted(self, db: Database) -> None:
        """After a verdict's transaction committed."""
        ...

    def reliability(self, username: str) -> float | None:
        """The chance this reviewer's verdict is right, as the rule counts it (None: the
        rule counts every verdict alike)."""
        ...


@dataclass(frozen=True, slots=True)
class MajorityRule:
    """QA_CONSENSUS=majority: the majority of QA_VOTES settles (service/qa/voting.py)."""

    assisted: ClassVar[bool] = False
    votes: int
    majority: int

    @classmethod
    async def load(cls, db: Database, rules: Rules) -> MajorityRule:
        return cls(rules.votes, rules.majority)

    def pick(self, request: PickRequest) -> PickRequest:
        return request

    def take(self, session: Session, snapshot_id: int) -> bool:
        params = {"snapshot_id": snapshot_id, "majority": self.majority}
        return session.execute("qa_reserve", params).rowcount == 1

    def count(self, session: Session, snapshot_id: int, username: str, now: datetime) -> None:
        votes = session.fetch_one("qa_snapshot_votes", {"snapshot_id": snapshot_id})
        assert votes is not None
        decided = voting.status(votes["votes_match"], votes["votes_mismatch"], self.votes)
        if votes["status"] == voting.PENDING and decided != voting.PENDING:
            params = {"snapshot_id": snapshot_id, "status": decided, "now": now}
            session.execute("qa_resolve_snapshot", params)

    async def handed_out(self, db: Database, now: datetime) -> None:
        return None

    def noted(self, db: Database) -> None:
        return None

    def reliability(self, username: str) -> float | None:
        return None

    @classmethod
    async def sweep(cls, db: Database, rules: Rules, now: datetime, limit: int = 200) -> int:
        """Settle pending snapshots whose verdicts already hold a majority (only the assisted
        rule leaves them, before a switch back); returns how many. One snapshot per statement,
        by id: no range of rows locked while reviewers vote."""
        params = {"majority": rules.majority, "limit": limit}
        settled = 0
        for row in await db.fetch_all("qa_decided_pending", params):
            try:
                result = await db.execute(
                    "qa_settle_decided",
                    {"snapshot_id": row["id"], "majority": rules.majority, "now": now},
                )
            except LockConflict:  # a reviewer holds it now: the next sweep tries again
                continue
            settled += result.rowcount
        if settled:
            log.info("qa snapshots settled by their majority", snapshots=settled)
        return settled


@dataclass(frozen=True, slots=True)
class AssistedRule:
    """QA_CONSENSUS=assisted: a posterior from the model prior and the reviewers' reliability
    settles (service/qa/assisted.py), with what is learnt for one request in `policy`."""

    assisted: ClassVar[bool] = True
    majority: int
    policy: assisted.Policy

    @classmethod
    async def load(cls, db: Database, rules: Rules) -> AssistedRule:
        known = await assisted.knowledge(db, rules.model)
        policy = assisted.Policy(rules.votes, rules.confidence, rules.model, known)
        return cls(rules.majority, policy)

    def pick(self, request: PickRequest) -> PickRequest:
        if self.policy.known.early:  # the first hand-outs teach the most
            return replace(request, spread_model=self.policy.model)
        return request

    def take(self, session: Session, snapshot_id: int) -> bool:
        return assisted.reserve(session, snapshot_id, self.policy)

    def count(self, session: Session, snapshot_id: int, username: str, now: datetime) -> None:
        assisted.count(session, snapshot_id, username, self.policy, now)

    async def handed_out(self, db: Database, now: datetime) -> None:
        """Settle what the hand-out found settled by what has been learnt; on a lost lock
        conflict the snapshots stay pending and the next hand-out that offers them tries
        again."""
        if not self.policy.ready:
            return
        body = partial(assisted.settle_ready, policy=self.policy, now=now)
        try:
            await transaction_with_retry(db, body)
        except LockConflict:
            log.info("qa snapshots left for the next hand-out to settle",
                     snapshots=len(self.policy.ready))  # fmt: skip

    def noted(self, db: Database) -> None:
        assisted.learner_for(db).noted()  # what is learnt grows with every verdict

    def reliability(self, username: str) -> float | None:
        return round(self.policy.known.reliability(username), 4)

    @classmethod
    async def sweep(cls, db: Database, rules: Rules, now: datetime, limit: int = 200) -> int:
        return 0  # it settles as verdicts come in, and leaves nothing for a sweep


RULES: dict[str, type[MajorityRule] | type[AssistedRule]] = {
    "majority": MajorityRule,
    "assisted": AssistedRule,
}


async def load(db: Database, rules: Rules) -> ConsensusRule:
    """The consensus rule for one request (the assisted rule reads what is learnt)."""
    return await RULES[rules.consensus].load(db, rules)


async def sweep(db: Database, rules: Rules, now: datetime, limit: int = 200) -> int:
    """The rule's part of the periodic sweep; returns how many snapshots it settled."""
    return await RULES[rules.consensus].sweep(db, rules, now, limit)

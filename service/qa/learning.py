"""What the assisted rule learns (QA_CONSENSUS=assisted): the prior's calibration and each
reviewer's reliability, fitted jointly by expectation-maximisation over every verdict given so
far (service/qa/em.py), so it grows from the first verdict on, not only from settled snapshots.

One `Learner` per open database keeps the latest fit and refits in the background as verdicts
arrive: once MIN_NEW_VERDICTS more (or a twentieth more, if that is more) have been counted
here, or REFRESH_SECONDS after the last fit (verdicts counted by other processes). Requests use
the latest fit and never wait for one, except for the very first. Transaction bodies take an
immutable `Knowledge`, so a refit never changes anything mid-transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace

import structlog

from service.db import Database, Row, Session
from service.qa import consensus, em

log = structlog.get_logger(__name__)

REFRESH_SECONDS = 30.0
MIN_NEW_VERDICTS = 3
# Below this many snapshots of evidence behind its calibration, a suspicion level is still being
# learnt: its snapshots go to one reviewer at a time (consensus.limit), and one whose verdicts
# agree with the prior may wait for the verdicts on their way (reserve).
LEARNING_EVIDENCE = 100.0
# Until the fit rests on this many snapshots, hand-outs mix suspicion levels (pick_spread).
SPREAD_UNTIL = 200


@dataclass(frozen=True, slots=True)
class Knowledge:
    model: str = ""  # the embedder whose suspicion scores the calibration is for
    fit: em.Fit = em.NOTHING

    @property
    def calibration(self) -> consensus.Calibration:
        return self.fit.calibration

    def reliability(self, username: str) -> float:
        fitted = self.fit.reliabilities.get(username, consensus.NEW_REVIEWER)
        return consensus.capped_reliability(fitted)

    def learning(self, suspicion: float | None) -> bool:
        return self.calibration.evidence(suspicion) < LEARNING_EVIDENCE

    @property
    def early(self) -> bool:
        """Early in a catalog: hand-outs mix suspicion levels, so every level is learnt."""
        return self.fit.snapshots < SPREAD_UNTIL


def suspicion_of(row: Row) -> float | None:
    """A row's suspicion score (NULL: not scored, or scored for another attribution)."""
    return None if row["suspicion"] is None else float(row["suspicion"])


def read_evidence(session: Session, model: str) -> em.Evidence:
    verdicts = (
        em.Verdict(row["snapshot_id"], suspicion_of(row), row["username"], bool(row["is_match"]))
        for row in session.fetch_all("qa_em_verdicts", {"model": model})
    )
    settled: dict[float, consensus.Bin] = {}
    for row in session.fetch_all("qa_em_settled_without_verdicts", {"model": model}):
        key = consensus.level(float(row["level"]))
        old = settled.get(key, consensus.Bin(0, 0))  # two SQL levels may round to one key
        settled[key] = consensus.Bin(
            old.resolved + int(row["resolved"]), old.matches + int(row["matches"] or 0)
        )
    return em.Evidence.of(verdicts, settled)


class Learner:
    """The latest Knowledge of one database, and when to fit it again."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.knowledge = Knowledge()
        self._clock = clock
        self._lock = threading.Lock()
        self._fitted_at: float | None = None
        self._new = 0  # verdicts counted in this process since the last fit began
        self._started = self._installed = 0  # fits begun; the latest one whose result is used
        self._task: asyncio.Task[Knowledge] | None = None

    def noted(self, verdicts: int = 1) -> None:
        """Verdicts were counted: a refit is due once enough have come in."""
        with self._lock:
            self._new += verdicts

    def _due(self) -> bool:
        if self._new >= max(MIN_NEW_VERDICTS, self.knowledge.fit.verdicts // 20):
            return True
        return self._fitted_at is None or self._clock() - self._fitted_at >= REFRESH_SECONDS

    async def current(self, db: Database, model: str) -> Knowledge:
        """The latest knowledge, starting a refit in the background if one is due. The first
        call (and the first for another model) waits for its fit: nothing may run on an empty
        history by accident."""
        if self._fitted_at is None or self.knowledge.model != model:
            return await self.refit(db, model)
        with self._lock:
            if self._due() and (self._task is None or self._task.done()):
                self._task = asyncio.get_running_loop().create_task(self._background(db, model))
            return self.knowledge

    async def refit(self, db: Database, model: str) -> Knowledge:
        """Read every verdict and fit; returns the latest knowledge."""
        with self._lock:
            self._new, self._started = 0, self._started + 1
            number, before = self._started, self.knowledge
        start = before.fit
        if before.model != model:  # another model's levels mean something else
            start = replace(em.NOTHING, reliabilities=before.fit.reliabilities)
        fitted = await db.read(lambda session: em.fit(read_evidence(session, model), start))
        with self._lock:
            if number > self._installed:  # a fit begun later may have finished first
                self.knowledge, self._installed = Knowledge(model, fitted), number
                self._fitted_at = self._clock()
            return self.knowledge

    async def _background(self, db: Database, model: str) -> Knowledge:
        try:
            return await self.refit(db, model)
        except Exception:  # the next verdicts try again; until then the last fit serves
            log.exception("qa assisted refit failed")
            return self.knowledge

    async def close(self) -> None:
        """Stop a refit in flight (at shutdown, before the database closes)."""
        task = self._task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


_LEARNERS: weakref.WeakKeyDictionary[Database, Learner] = weakref.WeakKeyDictionary()
_LEARNERS_LOCK = threading.Lock()


def learner_for(db: Database) -> Learner:
    with _LEARNERS_LOCK:
        found = _LEARNERS.get(db)
        if found is None:
            found = _LEARNERS[db] = Learner()
        return found


async def knowledge(db: Database, model: str) -> Knowledge:
    return await learner_for(db).current(db, model)

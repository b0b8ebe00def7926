"""The EM fit of the assisted rule (service/qa/em.py) on synthetic verdicts whose truth is known,
and the Learner that refits it in the background.

Tolerances, each against what the sample itself holds (the realised share of right verdicts
per reviewer, of right attributions per level), with about 1,600 verdicts per reviewer and 380
snapshots per level, set from 20 seeds (largest error found in brackets): reliabilities
within 0.035 (0.026); per-level rates within 0.06 where the model is confident, a rate of
0.8 or more, or 0.2 or less, which is where it settles snapshots (0.051), and within 0.1 in
between (0.088). The EM never sees the truth: a third of the snapshots have one verdict, and
the verdicts are all it has besides the suspicion level.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from service.qa import consensus, em
from service.qa.assisted import Knowledge, Learner
from service.qa.consensus import Bin

LEVELS = [n / 10 for n in range(-10, 11)]
# Reviewers from excellent to useless; the last one clicks at random.
ACCURACIES = (0.95, 0.93, 0.9, 0.9, 0.85, 0.8, 0.75, 0.7, 0.6, 0.5)


def true_rate(level: float) -> float:
    """P(the attribution is right) at a suspicion level: a model that knows what it says."""
    return min(max(0.5 - 0.5 * level, 0.02), 0.98)


class Sample:
    """Snapshots spread evenly over the levels, each given 1-3 verdicts by distinct reviewers."""

    def __init__(self, seed: int, snapshots: int = 8000, inverted: bool = False) -> None:
        rng = np.random.default_rng(seed)
        self.verdicts: list[em.Verdict] = []
        self.right: dict[str, list[bool]] = defaultdict(list)  # reviewer -> each verdict right?
        self.truth: dict[float, list[bool]] = defaultdict(list)  # level -> each attribution right?
        for snapshot in range(snapshots):
            level = float(rng.choice(LEVELS))
            truth = bool(rng.random() < true_rate(level))
            shown = -level if inverted else level  # an inverted model says the opposite
            self.truth[consensus.level(shown)].append(truth)
            for who in rng.choice(len(ACCURACIES), size=rng.choice([1, 2, 3]), replace=False):
                right = bool(rng.random() < ACCURACIES[who])
                self.right[f"r{who}"].append(right)
                suspicion = shown + float(rng.uniform(-0.04, 0.04))  # rounds to `shown`
                self.verdicts.append(em.Verdict(snapshot, suspicion, f"r{who}", truth == right))

    def fit(self) -> em.Fit:
        return em.fit(em.Evidence.of(self.verdicts))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_fit_recovers_reliabilities_and_calibration(seed: int) -> None:
    sample = Sample(seed)
    fit = sample.fit()
    assert fit.converged and fit.verdicts == len(sample.verdicts) and fit.snapshots == 8000
    for name, right in sample.right.items():
        realised = max(float(np.mean(right)), 0.5)  # below chance is fitted as 0.5
        assert fit.reliabilities[name] == pytest.approx(realised, abs=0.035), name
    assert fit.reliabilities["r9"] < 0.53  # the random clicker counts for next to nothing
    for level, truths in sample.truth.items():
        found, realised = fit.levels[level], float(np.mean(truths))
        tolerance = 0.06 if abs(realised - 0.5) >= 0.3 else 0.1
        assert found.matches / found.resolved == pytest.approx(realised, abs=tolerance), level
    # What the rule uses: monotone in suspicion, within the caps, confident at both ends.
    priors = [fit.calibration.prior(level) for level in LEVELS]
    assert priors == sorted(priors, reverse=True)
    assert priors[0] >= 0.95 and priors[-1] <= 0.05


@pytest.mark.parametrize("seed", [1, 2])
def test_an_inverted_model_is_worth_the_base_rate_and_the_reviewers_are_still_known(
    seed: int,
) -> None:
    """Scores that mean the opposite: the calibration pools every level into one block (the
    prior is the base rate, whatever the score says), and the reviewers are learnt from their
    agreement with each other."""
    sample = Sample(seed, inverted=True)
    fit = sample.fit()
    base = np.mean([t for truths in sample.truth.values() for t in truths])
    rates = {fit.calibration.rate(level) for level in LEVELS}
    assert max(rates) - min(rates) < 0.02
    assert all(rate == pytest.approx(base, abs=0.03) for rate in rates)
    for name, right in sample.right.items():
        realised = max(float(np.mean(right)), 0.5)
        assert fit.reliabilities[name] == pytest.approx(realised, abs=0.05), name


def test_settled_history_without_verdicts_counts() -> None:
    """Snapshots QA settled with no verdict on record count by their status."""
    history = {-1.0: Bin(50, 50), 1.0: Bin(20, 0)}
    alone = em.fit(em.Evidence.of([], history))
    assert alone.snapshots == 70 and alone.verdicts == 0
    assert alone.calibration.rate(-1.0) == pytest.approx((50 + 2 * 0.9) / 52)
    assert alone.calibration.rate(1.0) == pytest.approx(2 * 0.1 / 22)
    assert alone.calibration.prior(-1.0) == consensus.PRIOR_CAP  # the caps apply to the prior
    assert alone.calibration.prior(1.0) == pytest.approx(1 - consensus.PRIOR_CAP)
    # With verdicts beside it: a reviewer who agrees with that history is learnt as reliable.
    verdicts = [em.Verdict(i, -1.0, "alice", True) for i in range(30)]
    verdicts += [em.Verdict(100 + i, 1.0, "alice", False) for i in range(10)]
    both = em.fit(em.Evidence.of(verdicts, history))
    assert both.snapshots == 110
    assert both.reliabilities["alice"] > 0.9


def test_no_evidence_is_the_default_map() -> None:
    fit = em.fit(em.Evidence.of([]))
    assert fit.converged and fit.snapshots == fit.verdicts == 0
    assert fit.calibration.prior(-1.0) == 0.9 and fit.calibration.prior(None) == 0.5
    assert fit.reliabilities == {}


def test_a_fit_started_from_the_last_one_agrees_and_is_quicker() -> None:
    sample = Sample(4, snapshots=3000)
    evidence = em.Evidence.of(sample.verdicts)
    cold = em.fit(evidence)
    warm = em.fit(evidence, cold)
    assert warm.iterations < cold.iterations
    for name, r in cold.reliabilities.items():
        assert warm.reliabilities[name] == pytest.approx(r, abs=1e-3)
    for level in LEVELS:
        assert warm.calibration.rate(level) == pytest.approx(cold.calibration.rate(level), abs=1e-3)


# -- the Learner ----------------------------------------------------------------------------


class FakeSession:
    def __init__(self, verdicts: list[dict[str, Any]]) -> None:
        self.verdicts = verdicts

    def fetch_all(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        return list(self.verdicts) if name == "qa_em_verdicts" else []


class FakeDatabase:
    """Reads from a list of verdict rows; each read can be held until released."""

    def __init__(self) -> None:
        self.rows: list[dict[str, Any]] = []
        self.reads = 0
        self.gate: asyncio.Event | None = None

    async def read(self, fn: Callable[[FakeSession], Any]) -> Any:
        self.reads += 1
        if self.gate is not None:
            await self.gate.wait()
        return fn(FakeSession(self.rows))

    def add(self, snapshot_id: int, username: str, is_match: bool) -> None:
        self.rows.append({"snapshot_id": snapshot_id, "username": username,
                          "is_match": int(is_match), "suspicion": -1.0})  # fmt: skip


def test_the_learner_refits_in_the_background_as_verdicts_arrive() -> None:
    async def scenario() -> None:
        now = [0.0]
        learner, db = Learner(clock=lambda: now[0]), FakeDatabase()
        first = await learner.current(db, "m")  # type: ignore[arg-type]
        assert db.reads == 1 and first.fit.verdicts == 0  # the first fit is waited for
        for i in range(3):
            db.add(i, "alice", True)
            learner.noted()
        db.gate = asyncio.Event()  # hold the refit's read
        during = await learner.current(db, "m")  # type: ignore[arg-type]
        assert during is first  # a request never waits for a refit
        await asyncio.sleep(0)
        assert db.reads == 2
        db.gate.set()
        for _ in range(100):  # each pass lets the refit task run; it needs only a few
            if learner.knowledge.fit.verdicts == 3:
                break
            await asyncio.sleep(0)
        assert learner.knowledge.fit.verdicts == 3
        assert learner.knowledge.reliability("alice") > consensus.NEW_REVIEWER
        # Nothing new: no refit until REFRESH_SECONDS have passed (verdicts of other processes).
        await learner.current(db, "m")  # type: ignore[arg-type]
        assert db.reads == 2
        now[0] += 30.0
        await learner.current(db, "m")  # type: ignore[arg-type]
        for _ in range(100):
            if db.reads == 3:
                break
            await asyncio.sleep(0)
        assert db.reads == 3
        await learner.close()

    asyncio.run(scenario())


def test_another_model_is_fitted_afresh_and_waited_for() -> None:
    """Scores of another embedder mean something else: its first fit is waited for, and starts
    from the reviewers already known, not from the other model's calibration."""

    async def scenario() -> None:
        learner, db = Learner(), FakeDatabase()
        for i in range(20):
            db.add(i, "alice", True)
        old = await learner.current(db, "old")  # type: ignore[arg-type]
        new = await learner.current(db, "new")  # type: ignore[arg-type]
        assert (old.model, new.model, db.reads) == ("old", "new", 2)
        assert isinstance(new, Knowledge) and new.fit.verdicts == 20

    asyncio.run(scenario())

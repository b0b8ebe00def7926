"""What the assisted rule learns, by expectation-maximisation over every verdict given so far.

A one-coin Dawid–Skene model (Dawid and Skene, 1979; one reliability per reviewer instead of a
confusion matrix). Each snapshot's attribution is right or wrong, which nobody observes. Each
reviewer is right with a probability of their own, whatever the truth; the similarity model is
one more annotator, whose "answer" is the snapshot's suspicion level and whose calibration,
P(right | level), is learnt beside the reviewers. Expectation-maximisation alternates:

- E: each snapshot's P(right) from its level's calibration and its verdicts (Bayes, with
  verdicts independent given the truth);
- M: each reviewer's reliability, the share of their verdicts that agree with those
  probabilities, smoothed by the Beta prior of a new reviewer (consensus.RELIABILITY_PRIOR)
  and kept within [0.5, FIT_CAP] (worse than chance is no evidence, and a reviewer below 0.5
  is never turned into one above it); each level's rate, the expected share of right
  attributions among its snapshots, shrunk towards the conservative default map.

What the rule uses is made from the final expected counts by consensus.calibrate (isotonic in
the score, pooled where levels agree, shrunk the same way).

Every snapshot with a verdict counts by its verdicts, settled or not; a snapshot settled with
no verdict at all (history QA recorded some other way) counts by its status. The rule's own
caps (consensus.PRIOR_CAP, RELIABILITY_CAP) apply where the estimates are used, not here: the
fit estimates as well as it can, the rule decides how far to trust it.

Numpy over flat arrays: an iteration is a few bincounts over the verdicts, and a fit started
from the previous one needs a handful (`BENCH=qa make bench`: milliseconds for 10,000 verdicts).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from service.qa import consensus
from service.qa.consensus import Bin, Calibration

# The fit's bound on a reviewer's reliability (the rule's is consensus.RELIABILITY_CAP).
FIT_CAP = 0.99
TOLERANCE = 1e-4  # stop once no reliability or calibrated rate moves by more than this
MAX_ITERATIONS = 200


class Verdict(NamedTuple):
    snapshot_id: int
    suspicion: float | None  # the snapshot's score for its current attribution (None: unscored)
    username: str
    is_match: bool


@dataclass(frozen=True, slots=True)
class Evidence:
    """Every verdict as parallel arrays (one entry per verdict), each snapshot's level, and the
    snapshots settled without a verdict, counted by level."""

    snapshot: np.ndarray  # index into `levels`
    reviewer: np.ndarray  # index into `reviewers`
    is_match: np.ndarray  # bool
    levels: np.ndarray  # per snapshot: its calibration level; NaN when unscored
    reviewers: tuple[str, ...]
    settled: Mapping[float, Bin] = field(default_factory=dict)

    @classmethod
    def of(cls, verdicts: Iterable[Verdict], settled: Mapping[float, Bin] | None = None
           ) -> Evidence:  # fmt: skip
        snapshots: dict[int, int] = {}
        reviewers: dict[str, int] = {}
        levels: list[float] = []
        rows: list[tuple[int, int, bool]] = []
        for v in verdicts:
            index = snapshots.get(v.snapshot_id)
            if index is None:
                index = snapshots[v.snapshot_id] = len(levels)
                levels.append(math.nan if v.suspicion is None else consensus.level(v.suspicion))
            who = reviewers.setdefault(v.username, len(reviewers))
            rows.append((index, who, v.is_match))
        columns = np.array(rows, dtype=np.int64).reshape(-1, 3)
        return cls(
            snapshot=columns[:, 0], reviewer=columns[:, 1], is_match=columns[:, 2].astype(bool),
            levels=np.array(levels, dtype=np.float64), reviewers=tuple(reviewers),
            settled=dict(settled or {}),
        )  # fmt: skip

    @property
    def snapshots(self) -> int:
        """Snapshots the fit rests on: with a verdict, or settled without one."""
        return len(self.levels) + round(sum(b.resolved for b in self.settled.values()))


@dataclass(frozen=True, slots=True)
class Fit:
    calibration: Calibration  # for the rule: isotonic, pooled, shrunk (consensus.calibrate)
    reliabilities: Mapping[str, float]  # within [0.5, FIT_CAP]
    levels: Mapping[float, Bin] = field(default_factory=dict)  # expected counts by level
    snapshots: int = 0
    verdicts: int = 0
    iterations: int = 0
    converged: bool = True


NOTHING = Fit(consensus.NO_HISTORY, {})


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def fit(evidence: Evidence, start: Fit = NOTHING, tolerance: float = TOLERANCE,
        max_iterations: int = MAX_ITERATIONS) -> Fit:  # fmt: skip
    """Reliabilities and calibration by EM, from `start`'s (the previous fit's) where it has
    them: a new reviewer starts at consensus.NEW_REVIEWER, a level with no history at the
    default map."""
    a, b = consensus.RELIABILITY_PRIOR
    n = len(evidence.levels)
    scored = ~np.isnan(evidence.levels)
    keys = sorted(set(evidence.levels[scored].tolist()) | set(evidence.settled))
    at = np.searchsorted(np.array(keys, dtype=np.float64), evidence.levels[scored])
    fixed = [evidence.settled.get(k, Bin(0.0, 0.0)) for k in keys]
    resolved = np.bincount(at, minlength=len(keys)) + np.array([f.resolved for f in fixed])
    fixed_matches = np.array([f.matches for f in fixed], dtype=np.float64)
    # Each level's rate is shrunk towards the default map as the calibration's are, but level
    # by level: the model as an annotator of its own (pooling is for the rule, at the end).
    default = np.array([consensus.default_prior(k) for k in keys], dtype=np.float64)
    weight = consensus.DEFAULT_WEIGHT
    judged = np.bincount(evidence.reviewer, minlength=len(evidence.reviewers))

    rates = np.array([start.calibration.rate(k) for k in keys], dtype=np.float64)
    reliability = np.array(
        [start.reliabilities.get(name, consensus.NEW_REVIEWER) for name in evidence.reviewers],
        dtype=np.float64,
    )
    iterations, converged = 0, False
    while True:
        # E: P(match) of every snapshot, in log-odds.
        log_odds = np.zeros(n)
        log_odds[scored] = _logit(rates)[at]
        votes = _logit(reliability)[evidence.reviewer]
        log_odds += np.bincount(evidence.snapshot, np.where(evidence.is_match, votes, -votes),
                                minlength=n)  # fmt: skip
        p_match = 1.0 / (1.0 + np.exp(-log_odds))
        matches = np.bincount(at, p_match[scored], minlength=len(keys)) + fixed_matches
        if converged or iterations == max_iterations:
            break
        iterations += 1
        # M: reviewers, then the model's rate at each level.
        on = p_match[evidence.snapshot]
        agreed = np.bincount(evidence.reviewer, np.where(evidence.is_match, on, 1.0 - on),
                             minlength=len(evidence.reviewers))  # fmt: skip
        new_reliability = np.clip((a + agreed) / (a + b + judged), 0.5, FIT_CAP)
        new_rates = (matches + weight * default) / (resolved + weight)
        moved = max(np.max(np.abs(new_reliability - reliability), initial=0.0),
                    np.max(np.abs(new_rates - rates), initial=0.0))  # fmt: skip
        reliability, rates = new_reliability, new_rates
        converged = moved < tolerance
    bins = {k: Bin(float(r), float(m)) for k, r, m in zip(keys, resolved, matches, strict=True)}
    return Fit(
        consensus.calibrate(bins),
        dict(zip(evidence.reviewers, reliability.tolist(), strict=True)),
        bins, evidence.snapshots, len(evidence.snapshot), iterations, converged,
    )  # fmt: skip

"""QA_CONSENSUS=assisted: the settling rule as pure functions (no framework, no SQL).

A snapshot starts from a model prior, P(its attribution is right), read from the similarity
evidence (`prior_from_suspicion`). Each verdict then moves that probability by the odds of
its reviewer being right (`update`), Bayes' rule with independent reviewers. A snapshot
settles (`settle`):

1. by the posterior, once one answer has probability >= QA_CONFIDENCE and at least one
   reviewer gave that answer (the model alone never settles anything); else
2. by the majority of QA_VOTES, as soon as that majority is certain (the fallback: never more
   human verdicts than `majority` would ask for).

Two caps keep a wrong model or a lucky reviewer from doing damage: the prior stays within
[1 - PRIOR_CAP, PRIOR_CAP] and a reviewer's reliability within [0.5, RELIABILITY_CAP]. So
one verdict that disagrees with the model always leaves the posterior below PRIOR_CAP, and
more verdicts are asked for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from service.qa import voting
from service.qa.voting import MATCH, MISMATCH, PENDING, Status

SettledBy = Literal["majority", "assisted"]

PRIOR_CAP = 0.98
RELIABILITY_CAP = 0.95
# A new reviewer's reliability: Beta(8, 2), mean 0.8, worth ten judged verdicts.
RELIABILITY_PRIOR = (8.0, 2.0)
# How many resolved snapshots a calibration bin's own rate is worth against the default map.
DEFAULT_WEIGHT = 10.0


# -- the model prior ------------------------------------------------------------------------


def clamp_prior(p: float) -> float:
    return min(max(p, 1.0 - PRIOR_CAP), PRIOR_CAP)


def default_prior(suspicion: float | None) -> float:
    """The conservative map used until there is history: 0.8 (the neighbours all vote for the
    attributed product) down to 0.2 (all for another); 0.5 when the snapshot has no score.

    It never lets one verdict settle at QA_CONFIDENCE >= 0.99: 0.8 and a reviewer at the 0.95
    cap give 0.987.
    """
    if suspicion is None:
        return 0.5
    return 0.5 - 0.3 * min(max(suspicion, -1.0), 1.0)


def level(suspicion: float) -> float:
    """The calibration bin of a suspicion score: rounded to one decimal, as SQL's ROUND."""
    value = min(max(suspicion, -1.0), 1.0)
    return math.copysign(math.floor(abs(value) * 10 + 0.5), value) / 10 + 0.0


@dataclass(frozen=True, slots=True)
class Bin:
    resolved: int  # resolved snapshots whose score rounds to this level
    matches: int  # of which QA settled as 'match'


@dataclass(frozen=True, slots=True)
class Calibration:
    """P(match) by suspicion level, learnt from resolved snapshots.

    Each level's match rate is shrunk towards the default map with the weight of
    DEFAULT_WEIGHT snapshots, so a level with little history stays near the (conservative)
    default and one with a long history says what QA found there. Binning, not a fitted
    curve: a model whose scores mean the opposite of what they should is learnt as such.
    """

    bins: Mapping[float, Bin]

    def prior(self, suspicion: float | None) -> float:
        if suspicion is None:
            return default_prior(None)
        key = level(suspicion)
        base = default_prior(key)
        found = self.bins.get(key)
        if found is None or found.resolved <= 0:
            return clamp_prior(base)
        rate = (found.matches + DEFAULT_WEIGHT * base) / (found.resolved + DEFAULT_WEIGHT)
        return clamp_prior(rate)


NO_HISTORY = Calibration({})


# -- reviewers -------------------------------------------------------------------------------


def reliability(judged: int, agreed: int) -> float:
    """A reviewer's chance of being right: the Beta posterior mean of their agreement with
    resolved snapshots, within [0.5, RELIABILITY_CAP] (below 0.5 counts as no evidence)."""
    a, b = RELIABILITY_PRIOR
    mean = (a + agreed) / (a + b + judged)
    return min(max(mean, 0.5), RELIABILITY_CAP)


NEW_REVIEWER = reliability(0, 0)


# -- the posterior ---------------------------------------------------------------------------


def update(p_match: float, is_match: bool, reliability: float) -> float:
    """P(match) after one verdict by a reviewer right with probability `reliability`."""
    r = min(max(reliability, 0.5), RELIABILITY_CAP)
    yes = p_match * (r if is_match else 1.0 - r)
    no = (1.0 - p_match) * ((1.0 - r) if is_match else r)
    return yes / (yes + no)


def posterior(prior: float, verdicts: Iterable[tuple[bool, float]]) -> float:
    """P(match) from the prior and (is_match, reliability) verdicts, in any order."""
    p = clamp_prior(prior)
    for is_match, r in verdicts:
        p = update(p, is_match, r)
    return p


@dataclass(frozen=True, slots=True)
class Decision:
    status: Status
    settled_by: SettledBy | None  # None while pending
    confidence: float  # the posterior of `status` (of the leading answer while pending)


def settle(p_match: float, matches: int, mismatches: int, votes: int, threshold: float) -> Decision:
    """The status after these verdicts (p_match already includes them)."""
    if p_match >= threshold and matches >= 1:
        return Decision(MATCH, "assisted", p_match)
    if 1.0 - p_match >= threshold and mismatches >= 1:
        return Decision(MISMATCH, "assisted", 1.0 - p_match)
    by_majority = voting.status(matches, mismatches, votes)
    if by_majority == MATCH:
        return Decision(MATCH, "majority", p_match)
    if by_majority == MISMATCH:
        return Decision(MISMATCH, "majority", 1.0 - p_match)
    return Decision(PENDING, None, max(p_match, 1.0 - p_match))


def verdicts_needed(
    p_match: float, matches: int, mismatches: int, votes: int, threshold: float
) -> int:
    """The fewest further verdicts that could settle the snapshot (0 once settled).

    Counted for agreeing reviewers at RELIABILITY_CAP, the best any reviewer can count for, so
    it is a lower bound for any crowd: handing the snapshot to more QAs at once could collect
    verdicts nobody needs. It is also never more than the majority fallback would need.
    """
    if settle(p_match, matches, mismatches, votes, threshold).status != PENDING:
        return 0
    most = voting.votes_still_needed(matches, mismatches, votes)
    for extra in range(1, most):
        for is_match in (True, False):
            p = p_match
            for _ in range(extra):
                p = update(p, is_match, RELIABILITY_CAP)
            grown = (matches + extra, mismatches) if is_match else (matches, mismatches + extra)
            if settle(p, *grown, votes, threshold).status != PENDING:
                return extra
    return most


def reported(
    status: str, p_match: float | None, settled_by: str | None
) -> tuple[float | None, SettledBy | None]:
    """`confidence` and `settled_by` as the API shows them: both null while pending; a
    snapshot settled with no model (QA_CONSENSUS=majority) has null confidence."""
    if status == PENDING:
        return None, None
    how: SettledBy = "assisted" if settled_by == "assisted" else "majority"
    if p_match is None:
        return None, how
    return (p_match if status == MATCH else 1.0 - p_match), how

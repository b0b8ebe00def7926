"""QA_CONSENSUS=assisted: the settling rule as pure functions (no framework, no SQL).

A snapshot starts from a model prior, P(its attribution is right), read from the similarity
evidence (`Calibration.prior`). Each verdict then moves that probability by the odds of
its reviewer being right (`update`), Bayes' rule with independent reviewers. A snapshot
settles (`settle`):

1. by the posterior, once one answer has probability >= QA_CONFIDENCE, at least one reviewer
   gave that answer (the model alone never settles anything) and no more gave the other; else
2. by the majority of QA_VOTES, as soon as that majority is certain, if the posterior gives
   its answer at least ESCALATE_BELOW (0.9); else
3. by the majority of QA_VOTES + 2: when the reviewers' majority and the evidence disagree,
   two more verdicts are asked (a wrong model costs verdicts, not accuracy).

Two caps keep a wrong model or a lucky reviewer from doing damage: the prior stays within
[1 - PRIOR_CAP, PRIOR_CAP] and a reviewer's reliability within [0.5, RELIABILITY_CAP]. So
one verdict that disagrees with the model always leaves the posterior below PRIOR_CAP, and
more verdicts are asked for. And the posterior never settles an answer that fewer reviewers
gave than its opposite: a model, however confident, breaks a tie at most, so two agreeing
reviewers are never overruled by the model and one dissenting verdict.

What a suspicion score means (`Calibration`) and how reliable each reviewer is are learnt from
the verdicts by expectation-maximisation (service/qa/em.py); this module only uses them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from service.qa import voting
from service.qa.voting import MATCH, MISMATCH, PENDING, Status

SettledBy = Literal["majority", "assisted", "lead"]

PRIOR_CAP = 0.98
RELIABILITY_CAP = 0.95
# A new reviewer's reliability: Beta(8.5, 1.5), mean 0.85, worth ten judged verdicts.
RELIABILITY_PRIOR = (8.5, 1.5)
# How many resolved snapshots a calibration bin's own rate is worth against the default map.
DEFAULT_WEIGHT = 2.0
# Adjacent calibration blocks this many standard errors apart or more stay apart (calibrate).
MERGE_Z = 2.0
# A certain majority of QA_VOTES decides only if the evidence gives its answer at least this;
# otherwise the panel grows by ESCALATION verdicts and the larger majority decides.
ESCALATE_BELOW = 0.9
ESCALATION = 2


# -- the model prior ------------------------------------------------------------------------


def clamp_prior(p: float) -> float:
    return min(max(p, 1.0 - PRIOR_CAP), PRIOR_CAP)


def default_prior(suspicion: float | None) -> float:
    """The conservative map used until there is history: linear from 0.9 (the neighbours all
    vote for the attributed product) to 0.1 (all for another); 0.5 with no score.

    Conservative because a model may be wrong in ways only history shows: at QA_CONFIDENCE
    0.99 one verdict by a new reviewer (0.85) takes even 0.9 only to 0.981, so no snapshot is
    settled by one verdict on the model's word alone, and an inverted model costs nothing but
    verdicts. The map still orders the evidence, and its 0.9 end already lets a snapshot go to
    one reviewer at a time (verdicts_needed 1 at the reliability cap).
    """
    if suspicion is None:
        return 0.5
    return 0.5 - 0.4 * min(max(suspicion, -1.0), 1.0)


def level(suspicion: float) -> float:
    """The calibration bin of a suspicion score: rounded to one decimal, as SQL's ROUND."""
    value = min(max(suspicion, -1.0), 1.0)
    return math.copysign(math.floor(abs(value) * 10 + 0.5), value) / 10 + 0.0


@dataclass(frozen=True, slots=True)
class Bin:
    """Snapshots whose score rounds to one level. Counts may be fractional: expected counts,
    each snapshot weighed by the probability that its attribution is right."""

    resolved: float  # snapshots with evidence (verdicts, or a status settled without any)
    matches: float  # of which match, as far as the evidence says


@dataclass(frozen=True, slots=True)
class Calibration:
    """P(match) by suspicion level, learnt from what QA found.

    Isotonic: adjacent levels are pooled until the match rate never rises with suspicion (pool
    adjacent violators, weighted by snapshots), and further while their rates do not differ
    significantly, so a sparse level borrows its neighbours' history. Each pooled rate is then
    shrunk towards the default map with the weight of DEFAULT_WEIGHT snapshots: with little
    history the prior stays near the conservative default; with a long one it says what QA
    found. A model whose scores mean the opposite of what they should is pooled into one
    block: its prior is the base rate, whatever it says. No score is no opinion: 0.5 always.
    """

    pooled: Mapping[float, Bin]  # level -> the history of the block the level belongs to
    spans: Mapping[float, tuple[float, float]] = field(default_factory=dict)  # its levels

    def span(self, suspicion: float) -> tuple[float, float]:
        """The lowest and highest level of the block this score's level belongs to."""
        key = level(suspicion)
        return self.spans.get(key, (key, key))

    def rate(self, suspicion: float | None) -> float:
        """P(match) at this score as learnt (before the prior's cap)."""
        if suspicion is None:
            return default_prior(None)
        key = level(suspicion)
        base = default_prior(key)
        found = self.pooled.get(key)
        if found is None or found.resolved <= 0:
            return base
        return (found.matches + DEFAULT_WEIGHT * base) / (found.resolved + DEFAULT_WEIGHT)

    def prior(self, suspicion: float | None) -> float:
        return clamp_prior(self.rate(suspicion))

    def evidence(self, suspicion: float | None) -> float:
        """How many snapshots the rate at this score rests on (its pooled block's); a score
        with no history has none, and no score is never learnt (infinite)."""
        if suspicion is None:
            return math.inf
        found = self.pooled.get(level(suspicion))
        return 0.0 if found is None else found.resolved


def _apart(left: tuple[float, float, list[float]], right: tuple[float, float, list[float]]
           ) -> float:  # fmt: skip
    """How far apart two blocks' match rates are, in standard errors (the two-proportion z
    statistic with the pooled rate); 0 when both are pure alike."""
    (m1, n1, _), (m2, n2, _) = left, right
    rate = (m1 + m2) / (n1 + n2)
    spread = rate * (1.0 - rate) * (1.0 / n1 + 1.0 / n2)
    return abs(m1 / n1 - m2 / n2) / math.sqrt(spread) if spread > 0 else 0.0


def calibrate(bins: Mapping[float, Bin]) -> Calibration:
    """A Calibration from snapshots counted by level.

    Pool adjacent violators first: a block may not have a higher match rate than the block
    before it. Then adjacent blocks whose rates are not MERGE_Z standard errors apart are
    pooled too, the closest pair first, so that each level's rate rests on all the history that
    agrees with it: a sparse level borrows its neighbours' record unless its own says
    otherwise.
    """
    blocks: list[tuple[float, float, list[float]]] = []  # (matches, resolved, levels)
    for key in sorted(k for k, b in bins.items() if b.resolved > 0):
        matches, resolved, levels = bins[key].matches, bins[key].resolved, [key]
        while blocks and blocks[-1][0] * resolved < matches * blocks[-1][1]:
            before = blocks.pop()
            matches, resolved, levels = (
                matches + before[0], resolved + before[1], before[2] + levels
            )  # fmt: skip
        blocks.append((matches, resolved, levels))
    while len(blocks) > 1:
        gaps = [_apart(blocks[i], blocks[i + 1]) for i in range(len(blocks) - 1)]
        at = min(range(len(gaps)), key=gaps.__getitem__)
        if gaps[at] >= MERGE_Z:
            break
        (m1, n1, l1), (m2, n2, l2) = blocks[at], blocks[at + 1]
        blocks[at : at + 2] = [(m1 + m2, n1 + n2, l1 + l2)]
    return Calibration(
        {key: Bin(b[1], b[0]) for b in blocks for key in b[2]},
        {key: (b[2][0], b[2][-1]) for b in blocks for key in b[2]},
    )


NO_HISTORY = Calibration({})


# -- reviewers -------------------------------------------------------------------------------


def capped_reliability(fitted: float) -> float:
    """The reliability a reviewer's verdicts count with: their fitted chance of being right
    (service/qa/em.py) within [0.5, RELIABILITY_CAP]; below 0.5 counts as no evidence."""
    return min(max(fitted, 0.5), RELIABILITY_CAP)


# A reviewer with no verdicts yet: the mean of the Beta prior.
NEW_REVIEWER = RELIABILITY_PRIOR[0] / sum(RELIABILITY_PRIOR)


# -- the posterior ---------------------------------------------------------------------------


def update(p_match: float, is_match: bool, reliability: float) -> float:
    """P(match) after one verdict by a reviewer right with probability `reliability`."""
    r = capped_reliability(reliability)
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


def _side(status: Status, p_match: float) -> float:
    return p_match if status == MATCH else 1.0 - p_match


def settle(p_match: float, matches: int, mismatches: int, votes: int, threshold: float) -> Decision:
    """The status after these verdicts (p_match already includes them)."""
    # By the posterior: at least one reviewer gave the answer, and no more gave the other.
    if p_match >= threshold and matches >= max(1, mismatches):
        return Decision(MATCH, "assisted", p_match)
    if 1.0 - p_match >= threshold and mismatches >= max(1, matches):
        return Decision(MISMATCH, "assisted", 1.0 - p_match)
    if matches + mismatches <= votes:
        usual = voting.status(matches, mismatches, votes)
        if usual != PENDING and _side(usual, p_match) >= ESCALATE_BELOW:
            return Decision(usual, "majority", _side(usual, p_match))
    # The evidence is against the majority of QA_VOTES (or that majority is not certain yet):
    # the panel grows by two and its majority decides.
    wider = voting.status(matches, mismatches, votes + ESCALATION)
    if wider != PENDING:
        return Decision(wider, "majority", _side(wider, p_match))
    return Decision(PENDING, None, max(p_match, 1.0 - p_match))


def verdicts_needed(
    p_match: float, matches: int, mismatches: int, votes: int, threshold: float
) -> int:
    """The fewest further verdicts that could settle the snapshot (0 once settled).

    Counted for agreeing reviewers at RELIABILITY_CAP, the best any reviewer can count for, so
    it is a lower bound for any crowd: handing the snapshot to more QAs at once could collect
    verdicts nobody needs.
    """
    if settle(p_match, matches, mismatches, votes, threshold).status != PENDING:
        return 0
    most = voting.votes_still_needed(matches, mismatches, votes + ESCALATION)
    for extra in range(1, most):
        for is_match in (True, False):
            p = p_match
            for _ in range(extra):
                p = update(p, is_match, RELIABILITY_CAP)
            grown = (matches + extra, mismatches) if is_match else (matches, mismatches + extra)
            if settle(p, *grown, votes, threshold).status != PENDING:
                return extra
    return most


def limit(
    prior: float,
    verdicts: list[tuple[bool, float]],
    votes: int,
    threshold: float,
    learning: bool = False,
) -> int:
    """How many reviewers may hold a snapshot at once: `verdicts_needed` after these verdicts.

    While the calibration at the snapshot's score is still `learning`, the prior that its next
    verdict is counted with may be anything up to the caps (it is taken afresh then, see
    service/qa/assisted.py), so the limit is the fewest verdicts under the most favourable of
    those: usually one holder at a time, and the first verdicts go to as many snapshots as
    possible while the calibration learns from them.
    """
    matches = sum(1 for is_match, _ in verdicts if is_match)
    mismatches = len(verdicts) - matches
    needed = verdicts_needed(posterior(prior, verdicts), matches, mismatches, votes, threshold)
    if needed == 0 or not learning:
        return needed
    for bound in (1.0 - PRIOR_CAP, PRIOR_CAP):
        p = posterior(bound, verdicts)
        needed = min(needed, max(verdicts_needed(p, matches, mismatches, votes, threshold), 1))
    return needed


def reported(
    status: str, p_match: float | None, settled_by: str | None
) -> tuple[float | None, SettledBy | None]:
    """`confidence` and `settled_by` as the API shows them: both null while pending; a
    snapshot settled with no model (QA_CONSENSUS=majority, or by a lead) has null
    confidence."""
    if status == PENDING:
        return None, None
    how: SettledBy = "majority"
    if settled_by == "assisted":
        how = "assisted"
    elif settled_by == "lead":
        how = "lead"
    if p_match is None:
        return None, how
    return (p_match if status == MATCH else 1.0 - p_match), how

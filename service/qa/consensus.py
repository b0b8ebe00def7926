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

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from service.qa import voting
from service.qa.calibration import (  # noqa: F401 - re-exported: the rule's one vocabulary
    DEFAULT_WEIGHT,
    MERGE_Z,
    NO_HISTORY,
    PRIOR_CAP,
    Bin,
    Calibration,
    calibrate,
    clamp_prior,
    default_prior,
    level,
)
from service.qa.voting import MATCH, MISMATCH, PENDING, Status

SettledBy = Literal["majority", "assisted", "lead"]

RELIABILITY_CAP = 0.95
# A new reviewer's reliability: Beta(8.5, 1.5), mean 0.85, worth ten judged verdicts.
RELIABILITY_PRIOR = (8.5, 1.5)
# A certain majority of QA_VOTES decides only if the evidence gives its answer at least this;
# otherwise the panel grows by ESCALATION verdicts and the larger majority decides.
ESCALATE_BELOW = 0.9
ESCALATION = 2


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

"""What a suspicion score means for QA_CONSENSUS=assisted: the model prior, P(a snapshot's
attribution is right) by suspicion level, as pure functions (no framework, no SQL).

Until there is history the prior is a conservative default map (`default_prior`); as QA finds
out, each level's match rate is learnt (`calibrate`, from service/qa/em.py's expected counts)
and shrunk towards that map. The prior always stays within [1 - PRIOR_CAP, PRIOR_CAP].
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

PRIOR_CAP = 0.98
# How many resolved snapshots a calibration bin's own rate is worth against the default map.
DEFAULT_WEIGHT = 2.0
# Adjacent calibration blocks this many standard errors apart or more stay apart (calibrate).
MERGE_Z = 2.0


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

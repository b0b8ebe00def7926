"""Leaderboard scoring, as pure functions.

- `accuracy_points` = round(1000 x the Wilson score lower bound, at 95% confidence, of the
  share of a QA's verdicts on *resolved* snapshots that agree with the final status). A
  handful of lucky verdicts cannot beat a long, consistent record: 5/5 scores 566, 95/100
  scores 888, 990/1000 scores 982.
- `activity_points` = verdicts given in completed sessions (one point each; sessions that
  expired earn nothing, though their verdicts still count for accuracy).
- Rank: accuracy points, then activity points, both descending; equal pairs share a rank
  (1, 2, 2, 4) and are listed by username.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

Z_95 = 1.959963984540054


def wilson_lower_bound(agreed: int, judged: int, z: float = Z_95) -> float:
    """Lower bound of the Wilson score interval for `agreed` successes out of `judged`."""
    if judged <= 0:
        return 0.0
    if not 0 <= agreed <= judged:
        raise ValueError("agreed must be between 0 and judged")
    p = agreed / judged
    z2 = z * z
    centre = p + z2 / (2 * judged)
    spread = z * math.sqrt((p * (1 - p) + z2 / (4 * judged)) / judged)
    return max(0.0, (centre - spread) / (1 + z2 / judged))


@dataclass(frozen=True, slots=True)
class QAStats:
    username: str
    reviewed: int  # verdicts given, in any session
    judged: int  # of those, verdicts on snapshots that are now resolved
    agreed: int  # of those, verdicts that agree with the final status
    activity_points: int


@dataclass(frozen=True, slots=True)
class Standing:
    rank: int
    username: str
    activity_points: int
    accuracy_points: int
    reviewed: int
    agreement_rate: float | None  # agreed / judged; None before any snapshot resolved


def accuracy_points(agreed: int, judged: int) -> int:
    return round(1000 * wilson_lower_bound(agreed, judged))


def rank(stats: list[QAStats]) -> list[Standing]:
    """Standings, best first, with competition ranking for ties."""
    scored = sorted(
        ((accuracy_points(s.agreed, s.judged), s) for s in stats),
        key=lambda pair: (-pair[0], -pair[1].activity_points, pair[1].username),
    )
    standings: list[Standing] = []
    previous: tuple[int, int] | None = None
    current_rank = 0
    for position, (points, s) in enumerate(scored, start=1):
        key = (points, s.activity_points)
        if key != previous:
            current_rank, previous = position, key
        standings.append(
            Standing(
                rank=current_rank,
                username=s.username,
                activity_points=s.activity_points,
                accuracy_points=points,
                reviewed=s.reviewed,
                agreement_rate=round(s.agreed / s.judged, 4) if s.judged else None,
            )
        )
    return standings

"""The voting rule, as pure functions: no framework, no SQL.

A snapshot's status is the majority of `votes` (odd) independent verdicts, and it is settled
as soon as that majority is certain: with 3 votes, two agreeing verdicts settle it and a third
is asked only after a 1-1 split. This yields exactly the status that always collecting all
`votes` verdicts would, because once one side holds a majority no later vote can change it.
"""

from __future__ import annotations

from typing import Literal

Status = Literal["pending", "match", "mismatch"]

PENDING: Status = "pending"
MATCH: Status = "match"
MISMATCH: Status = "mismatch"


def majority(votes: int) -> int:
    """Agreeing verdicts that settle a snapshot: 2 of 3, 3 of 5, 1 of 1."""
    if votes < 1 or votes % 2 == 0:
        raise ValueError("the number of votes must be odd and positive")
    return votes // 2 + 1


def status(matches: int, mismatches: int, votes: int) -> Status:
    """The snapshot's status after these verdicts."""
    needed = majority(votes)
    if matches >= needed:
        return MATCH
    if mismatches >= needed:
        return MISMATCH
    return PENDING


def votes_still_needed(matches: int, mismatches: int, votes: int) -> int:
    """The fewest further verdicts that could settle the snapshot (0 once it is settled).

    This is also how many QAs may hold it at once: handing it to more could collect verdicts
    nobody needs. The SQL reservation guard, `reserved + GREATEST(votes_match, votes_mismatch)
    < :majority`, is this rule with the open reservations counted in.
    """
    if status(matches, mismatches, votes) != PENDING:
        return 0
    return majority(votes) - max(matches, mismatches)


def can_reserve(matches: int, mismatches: int, reserved: int, votes: int) -> bool:
    """Whether one more QA may be handed the snapshot (the SQL guard, in Python)."""
    return reserved < votes_still_needed(matches, mismatches, votes)


def agrees(is_match: bool, final: Status) -> bool | None:
    """Whether a verdict agrees with a snapshot's final status; None while it is pending."""
    if final == PENDING:
        return None
    return is_match == (final == MATCH)

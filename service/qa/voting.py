"""The voting rule, as pure functions: no framework, no SQL.

A snapshot's status is the majority of `votes` (odd) independent verdicts, and it is settled
as soon as that majority is certain: with 3 votes, two agreeing verdicts settle it and a third
is asked only after a 1-1 split. This yields exactly the status that always collecting all
`votes` verdicts would, because once one side holds a majority no later vote can change it.

The status is a function of every verdict given, nothing else: one side must hold at least
`majority(votes)` of them *and* more than the other side. A snapshot can hold more than
`votes` verdicts (the assisted rule asks for more where its evidence disagrees, and
QA_CONSENSUS may be switched back and forth), so 2-2 is a tie and stays pending until a
verdict breaks it, and 2 match against 3 mismatch is a mismatch, whichever rule counted them.
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
    """The snapshot's status after these verdicts: the side with more of them, once it has at
    least `majority(votes)`; a tie is pending."""
    needed = majority(votes)
    if matches >= needed and matches > mismatches:
        return MATCH
    if mismatches >= needed and mismatches > matches:
        return MISMATCH
    return PENDING


def votes_still_needed(matches: int, mismatches: int, votes: int) -> int:
    """The fewest further verdicts that could settle the snapshot (0 once it is settled).

    This is also how many QAs may hold it at once: handing it to more could collect verdicts
    nobody needs. The SQL reservation guard of the majority rule (`qa_reserve`: `reserved <`
    this, written with GREATEST and CASE) is this rule with the open reservations counted in.
    A tie past the majority needs one verdict.
    """
    if status(matches, mismatches, votes) != PENDING:
        return 0
    return max(majority(votes) - max(matches, mismatches), 1)


def can_reserve(matches: int, mismatches: int, reserved: int, votes: int) -> bool:
    """Whether one more QA may be handed the snapshot (the SQL guard, in Python)."""
    return reserved < votes_still_needed(matches, mismatches, votes)


def agrees(is_match: bool, final: Status) -> bool | None:
    """Whether a verdict agrees with a snapshot's final status; None while it is pending."""
    if final == PENDING:
        return None
    return is_match == (final == MATCH)

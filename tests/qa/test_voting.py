"""The voting rule on its own: no app, no database."""

from __future__ import annotations

import itertools

import pytest

from service.qa import voting


@pytest.mark.parametrize(("votes", "needed"), [(1, 1), (3, 2), (5, 3), (7, 4)])
def test_majority(votes: int, needed: int) -> None:
    assert voting.majority(votes) == needed


@pytest.mark.parametrize("votes", [0, 2, 4, -1])
def test_majority_needs_an_odd_positive_count(votes: int) -> None:
    with pytest.raises(ValueError):
        voting.majority(votes)


@pytest.mark.parametrize(
    ("matches", "mismatches", "expected"),
    [
        (0, 0, "pending"),
        (1, 0, "pending"),
        (0, 1, "pending"),
        (1, 1, "pending"),
        (2, 0, "match"),
        (0, 2, "mismatch"),
        (2, 1, "match"),
        (1, 2, "mismatch"),
    ],
)
def test_status_with_three_votes(matches: int, mismatches: int, expected: str) -> None:
    assert voting.status(matches, mismatches, 3) == expected


def _early_stop(verdicts: tuple[bool, ...], votes: int) -> tuple[str, int]:
    """Feed verdicts one at a time, stopping as soon as the status is settled."""
    matches = mismatches = 0
    for used, verdict in enumerate(verdicts, start=1):
        matches += verdict
        mismatches += not verdict
        decided = voting.status(matches, mismatches, votes)
        if decided != voting.PENDING:
            return decided, used
    raise AssertionError("never settled")


@pytest.mark.parametrize("votes", [1, 3, 5])
def test_stopping_early_gives_the_full_majority(votes: int) -> None:
    """Every possible sequence of verdicts: settling as soon as certain gives the status that
    taking all `votes` would, and never uses more than `votes` verdicts."""
    for verdicts in itertools.product([True, False], repeat=votes):
        full = voting.MATCH if sum(verdicts) > votes // 2 else voting.MISMATCH
        decided, used = _early_stop(verdicts, votes)
        assert decided == full
        assert voting.majority(votes) <= used <= votes


def test_two_agreeing_votes_settle_three_and_a_split_asks_a_third() -> None:
    assert _early_stop((True, True, False), 3) == ("match", 2)
    assert _early_stop((False, False, True), 3) == ("mismatch", 2)
    assert _early_stop((True, False, False), 3) == ("mismatch", 3)
    assert _early_stop((False, True, True), 3) == ("match", 3)


@pytest.mark.parametrize(
    ("matches", "mismatches", "needed"),
    [(0, 0, 2), (1, 0, 1), (0, 1, 1), (1, 1, 1), (2, 0, 0), (1, 2, 0)],
)
def test_votes_still_needed(matches: int, mismatches: int, needed: int) -> None:
    assert voting.votes_still_needed(matches, mismatches, 3) == needed


def test_can_reserve_counts_open_reservations() -> None:
    assert voting.can_reserve(0, 0, reserved=0, votes=3)
    assert voting.can_reserve(0, 0, reserved=1, votes=3)
    assert not voting.can_reserve(0, 0, reserved=2, votes=3)
    assert voting.can_reserve(1, 1, reserved=0, votes=3)
    assert not voting.can_reserve(1, 1, reserved=1, votes=3)
    assert not voting.can_reserve(1, 0, reserved=1, votes=3)
    assert not voting.can_reserve(2, 0, reserved=0, votes=3)


def test_reservations_never_exceed_what_can_be_used() -> None:
    """Reserving whenever allowed and answering in any order never collects a verdict
    after the snapshot is settled, nor more than `votes` verdicts in all."""
    for votes in (1, 3, 5):
        for verdicts in itertools.product([True, False], repeat=votes):
            matches = mismatches = reserved = 0
            queue = list(verdicts)
            collected = 0
            while voting.status(matches, mismatches, votes) == voting.PENDING:
                while voting.can_reserve(matches, mismatches, reserved, votes):
                    reserved += 1
                assert reserved > 0
                verdict = queue.pop(0)
                reserved -= 1
                collected += 1
                matches += verdict
                mismatches += not verdict
            assert reserved == 0  # nobody holds a settled snapshot
            assert collected <= votes


def test_agrees() -> None:
    assert voting.agrees(True, "match") is True
    assert voting.agrees(False, "match") is False
    assert voting.agrees(False, "mismatch") is True
    assert voting.agrees(True, "pending") is None

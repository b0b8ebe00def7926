"""Property tests of the voting rule (service/qa/voting.py), for every allowed QA_VOTES.

Stopping as soon as the majority is certain gives the status that always collecting QA_VOTES
verdicts would; it never takes more than QA_VOTES; and it stops at the first verdict after
which the outcome is certain. The reservation guard keeps that true when QAs hold snapshots
at once and some of them walk away.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from service.qa import voting

FAST = settings(max_examples=300, deadline=None, database=None, derandomize=True)

odd_votes = st.integers(min_value=0, max_value=7).map(lambda n: 2 * n + 1)  # 1..15, QA_VOTES


@st.composite
def votes_and_verdicts(draw: st.DrawFn) -> tuple[int, list[bool]]:
    votes = draw(odd_votes)
    return votes, draw(st.lists(st.booleans(), min_size=votes, max_size=votes + 5))


def full_majority(verdicts: list[bool], votes: int) -> str:
    """The status when all `votes` verdicts are always collected."""
    return voting.MATCH if sum(verdicts[:votes]) > votes // 2 else voting.MISMATCH


def certain(matches: int, mismatches: int, votes: int) -> bool:
    """Whether every way of completing these verdicts to `votes` ends the same."""
    left = votes - matches - mismatches
    match_possible = matches + left > votes // 2
    mismatch_possible = mismatches + left > votes // 2
    return not (match_possible and mismatch_possible)


@FAST
@given(case=votes_and_verdicts())
def test_early_stop_is_the_full_majority_and_stops_as_soon_as_certain(
    case: tuple[int, list[bool]],
) -> None:
    votes, verdicts = case
    matches = mismatches = used = 0
    for verdict in verdicts:
        if voting.status(matches, mismatches, votes) != voting.PENDING:
            break
        assert not certain(matches, mismatches, votes)  # not settled: still undecided
        matches += verdict
        mismatches += not verdict
        used += 1
    assert voting.status(matches, mismatches, votes) == full_majority(verdicts, votes)
    assert voting.majority(votes) <= used <= votes
    assert certain(matches, mismatches, votes)
    assert voting.votes_still_needed(matches, mismatches, votes) == 0


@FAST
@given(votes=odd_votes, data=st.data())
def test_votes_still_needed_is_the_shortest_way_to_settle(votes: int, data: st.DataObject) -> None:
    matches = data.draw(st.integers(min_value=0, max_value=votes))
    mismatches = data.draw(st.integers(min_value=0, max_value=votes - matches))
    needed = voting.votes_still_needed(matches, mismatches, votes)
    if voting.status(matches, mismatches, votes) != voting.PENDING:
        assert needed == 0
        return
    leader = max(matches, mismatches)
    # `needed` agreeing verdicts for the leader settle it; one fewer of any kind cannot.
    assert voting.status(leader + needed, min(matches, mismatches), votes) != voting.PENDING
    assert leader + needed - 1 < voting.majority(votes)
    assert matches + mismatches + needed <= votes


@st.composite
def schedules(draw: st.DrawFn) -> tuple[int, list[tuple[str, bool]]]:
    """QA_VOTES and a sequence of events: a QA asks for the snapshot, a holder answers, a
    holder walks away (the session expires and the reservation is released)."""
    votes = draw(odd_votes)
    events = draw(
        st.lists(
            st.tuples(st.sampled_from(["reserve", "answer", "release"]), st.booleans()),
            max_size=60,
        )
    )
    return votes, events


@FAST
@given(case=schedules(), finish=st.lists(st.booleans(), min_size=15, max_size=15))
def test_reservations_keep_the_rule_under_any_interleaving(
    case: tuple[int, list[tuple[str, bool]]], finish: list[bool]
) -> None:
    votes, events = case
    matches = mismatches = reserved = 0
    verdicts: list[bool] = []

    def answer(verdict: bool) -> None:
        nonlocal matches, mismatches, reserved
        assert voting.status(matches, mismatches, votes) == voting.PENDING  # no late verdicts
        reserved -= 1
        matches += verdict
        mismatches += not verdict
        verdicts.append(verdict)

    for kind, verdict in events:
        if kind == "reserve" and voting.can_reserve(matches, mismatches, reserved, votes):
            reserved += 1
        elif kind == "answer" and reserved:
            answer(verdict)
        elif kind == "release" and reserved:
            reserved -= 1
        assert reserved + max(matches, mismatches) <= voting.majority(votes)
        assert len(verdicts) <= votes
    # Whoever still holds it answers; new QAs take it up until it settles.
    for verdict in finish:
        if voting.status(matches, mismatches, votes) != voting.PENDING:
            break
        if not reserved:
            assert voting.can_reserve(matches, mismatches, reserved, votes)  # never stuck
            reserved += 1
        answer(verdict)
    assert voting.status(matches, mismatches, votes) != voting.PENDING
    assert reserved == 0  # nobody holds a settled snapshot
    assert len(verdicts) <= votes
    assert voting.status(matches, mismatches, votes) == voting.status(
        sum(verdicts), len(verdicts) - sum(verdicts), votes
    )

"""Property tests of the assisted settling rule (service/qa/consensus.py).

The model alone never settles, nor breaks more than a tie; a verdict against a confident model
asks for more; a confident model and one agreeing reliable verdict settle; with no model and
reviewers at least as good as the escalation line the rule is today's majority; every snapshot
settles within QA_VOTES + 2 verdicts; `verdicts_needed` is a true lower bound (the reservation
guard rests on it); and the calibrated prior never rises with suspicion and stays within its
caps.
"""

from __future__ import annotations

import math

from hypothesis import example, given, settings
from hypothesis import strategies as st

from service.qa import consensus, voting
from service.qa.consensus import Bin

FAST = settings(max_examples=300, deadline=None, database=None, derandomize=True)

odd_votes = st.integers(min_value=0, max_value=4).map(lambda n: 2 * n + 1)  # 1..9
probability = st.floats(min_value=0.0, max_value=1.0)
thresholds = st.floats(min_value=0.9, max_value=0.9999)  # QA_CONFIDENCE's allowed range
reliabilities = st.floats(min_value=0.5, max_value=consensus.RELIABILITY_CAP)
verdict_lists = st.lists(st.tuples(st.booleans(), reliabilities), max_size=12)


def replay(prior: float, verdicts: list[tuple[bool, float]], votes: int, threshold: float
           ) -> tuple[consensus.Decision, int]:  # fmt: skip
    """Feed verdicts one at a time until the rule settles; the decision and verdicts used."""
    p, matches, mismatches = consensus.clamp_prior(prior), 0, 0
    decision = consensus.settle(p, 0, 0, votes, threshold)
    for used, (is_match, r) in enumerate(verdicts, start=1):
        p = consensus.update(p, is_match, r)
        matches, mismatches = matches + is_match, mismatches + (not is_match)
        decision = consensus.settle(p, matches, mismatches, votes, threshold)
        if decision.status != voting.PENDING:
            return decision, used
    return decision, len(verdicts)


@FAST
@given(probability, odd_votes, thresholds)
def test_the_model_alone_never_settles(prior: float, votes: int, threshold: float) -> None:
    p = consensus.clamp_prior(prior)
    assert consensus.settle(p, 0, 0, votes, threshold).status == voting.PENDING


@FAST
@given(probability, st.booleans(), reliabilities, odd_votes, thresholds)
def test_one_verdict_never_settles_against_itself(
    prior: float, is_match: bool, r: float, votes: int, threshold: float
) -> None:
    """Whatever the model says, one verdict either settles on its own side or asks for more."""
    p = consensus.update(consensus.clamp_prior(prior), is_match, r)
    decision = consensus.settle(p, int(is_match), int(not is_match), votes, threshold)
    assert decision.status in (voting.PENDING, voting.MATCH if is_match else voting.MISMATCH)


@FAST
@given(st.floats(min_value=0.97, max_value=1.0), st.floats(min_value=0.8, max_value=0.95),
       st.booleans(), st.sampled_from([3, 5, 7]))  # fmt: skip
def test_a_confident_model_and_one_agreeing_verdict_settle(
    confidence: float, r: float, is_match: bool, votes: int
) -> None:
    prior = confidence if is_match else 1.0 - confidence
    p = consensus.update(consensus.clamp_prior(prior), is_match, r)
    decision = consensus.settle(p, int(is_match), int(not is_match), votes, 0.99)
    assert decision.status == (voting.MATCH if is_match else voting.MISMATCH)
    assert decision.settled_by == "assisted" and decision.confidence >= 0.99


@FAST
@given(st.floats(min_value=0.97, max_value=1.0), reliabilities, st.booleans())
def test_a_verdict_against_a_confident_model_asks_for_more(
    confidence: float, r: float, model_says_match: bool
) -> None:
    prior = confidence if model_says_match else 1.0 - confidence
    p = consensus.update(consensus.clamp_prior(prior), not model_says_match, r)
    one = (0, 1) if model_says_match else (1, 0)
    assert consensus.settle(p, *one, 3, 0.99).status == voting.PENDING
    assert consensus.verdicts_needed(p, *one, 3, 0.99) >= 1


@FAST
@given(probability, verdict_lists, odd_votes, thresholds)
@example(0.98, [(False, 0.5), (False, 0.5), (True, 0.95)], 3, 0.99)  # two clickers, one expert
@example(0.98, [(False, 0.8), (False, 0.8), (True, 0.95)], 3, 0.9)  # 0.983 for the expert
def test_the_posterior_never_settles_what_fewer_reviewers_gave(
    prior: float, verdicts: list[tuple[bool, float]], votes: int, threshold: float
) -> None:
    """However confident the model and however reliable the minority, an answer given by
    fewer reviewers than its opposite is never settled by the posterior: a model breaks a tie
    at most (so two agreeing reviewers are never overruled by it and one dissent)."""
    p, matches, mismatches = consensus.clamp_prior(prior), 0, 0
    for is_match, r in verdicts:
        p = consensus.update(p, is_match, r)
        matches, mismatches = matches + is_match, mismatches + (not is_match)
        decision = consensus.settle(p, matches, mismatches, votes, threshold)
        if decision.settled_by == "assisted":
            side = matches if decision.status == voting.MATCH else mismatches
            assert side >= matches + mismatches - side
        if decision.status != voting.PENDING:
            break


@FAST
@given(st.lists(st.booleans(), min_size=3, max_size=3), st.floats(min_value=0.91, max_value=0.95))
def test_no_model_and_good_reviewers_is_the_majority_rule(verdicts: list[bool], r: float) -> None:
    decision, used = replay(0.5, [(v, r) for v in verdicts], 3, 0.99)
    matches = mismatches = expected_used = 0
    while voting.status(matches, mismatches, 3) == voting.PENDING:
        v = verdicts[expected_used]
        matches, mismatches, expected_used = matches + v, mismatches + (not v), expected_used + 1
    assert decision.status == voting.status(matches, mismatches, 3)
    assert used == expected_used


@FAST
@given(probability, st.lists(st.tuples(st.booleans(), reliabilities), min_size=11, max_size=11),
       odd_votes, thresholds)  # fmt: skip
def test_every_snapshot_settles_within_votes_plus_two(
    prior: float, verdicts: list[tuple[bool, float]], votes: int, threshold: float
) -> None:
    decision, used = replay(prior, verdicts, votes, threshold)
    assert decision.status != voting.PENDING
    assert used <= votes + consensus.ESCALATION


@FAST
@given(probability, verdict_lists, verdict_lists, odd_votes, thresholds)
def test_verdicts_needed_is_a_lower_bound(
    prior: float,
    history: list[tuple[bool, float]],
    future: list[tuple[bool, float]],
    votes: int,
    threshold: float,
) -> None:
    """No crowd (reliabilities up to the cap) settles a snapshot in fewer verdicts than
    verdicts_needed, and one verdict lowers it by at most one: so a snapshot held by at most
    verdicts_needed reviewers never collects a verdict it does not need."""
    p, matches, mismatches = consensus.clamp_prior(prior), 0, 0
    for is_match, r in history:
        if consensus.settle(p, matches, mismatches, votes, threshold).status != voting.PENDING:
            break
        p = consensus.update(p, is_match, r)
        matches, mismatches = matches + is_match, mismatches + (not is_match)
    needed = consensus.verdicts_needed(p, matches, mismatches, votes, threshold)
    settled = consensus.settle(p, matches, mismatches, votes, threshold).status != voting.PENDING
    assert (needed == 0) == settled
    for used, (is_match, r) in enumerate(future, start=1):
        if needed == 0:
            break
        p = consensus.update(p, is_match, r)
        matches, mismatches = matches + is_match, mismatches + (not is_match)
        after = consensus.verdicts_needed(p, matches, mismatches, votes, threshold)
        assert after >= needed - 1
        if used < needed:
            assert consensus.settle(p, matches, mismatches, votes, threshold).status == "pending"
        needed = after


@FAST
@given(probability, verdict_lists)
def test_the_posterior_ignores_verdict_order(prior: float, verdicts: list) -> None:
    forward = consensus.posterior(prior, verdicts)
    backward = consensus.posterior(prior, list(reversed(verdicts)))
    assert math.isclose(forward, backward, rel_tol=1e-9, abs_tol=1e-12)


history = st.dictionaries(
    st.integers(min_value=-10, max_value=10).map(lambda n: n / 10),
    st.integers(min_value=0, max_value=300).flatmap(
        lambda n: st.integers(min_value=0, max_value=n).map(lambda m: Bin(n, m))
    ),
    max_size=21,
)


@FAST
@given(history)
def test_the_calibrated_prior_never_rises_with_suspicion(bins: dict[float, Bin]) -> None:
    calibration = consensus.calibrate(bins)
    levels = [n / 10 for n in range(-10, 11)]
    pooled = [calibration.pooled.get(level) for level in levels]
    rates = [b.matches / b.resolved for b in pooled if b is not None and b.resolved]
    assert all(a >= b for a, b in zip(rates, rates[1:], strict=False))
    for level in levels:
        prior = calibration.prior(level)
        assert 1 - consensus.PRIOR_CAP <= prior <= consensus.PRIOR_CAP


def test_without_history_one_new_reviewer_never_settles() -> None:
    """The default map is conservative: however confident the scores, a new reviewer's one
    verdict does not settle at QA_CONFIDENCE 0.99."""
    for suspicion in (-1.0, -0.5, 0.0, 0.5, 1.0, None):
        prior = consensus.NO_HISTORY.prior(suspicion)
        for is_match in (True, False):
            p = consensus.update(prior, is_match, consensus.NEW_REVIEWER)
            one = (1, 0) if is_match else (0, 1)
            assert consensus.settle(p, *one, 3, 0.99).status == voting.PENDING


def test_no_history_is_the_default_map_and_an_inverted_model_is_the_base_rate() -> None:
    assert consensus.calibrate({}).prior(-1.0) == consensus.default_prior(-1.0) == 0.9
    assert consensus.calibrate({}).prior(None) == 0.5
    # QA found the opposite of what the scores say: everything pools into one block.
    inverted = {-1.0: Bin(400, 20), 0.0: Bin(100, 50), 1.0: Bin(500, 480)}
    calibration = consensus.calibrate(inverted)
    assert {calibration.pooled[k] for k in inverted} == {Bin(1000, 550)}
    # A long, sane history: confident at both ends.
    sane = {-1.0: Bin(900, 898), 0.0: Bin(50, 30), 1.0: Bin(60, 2)}
    calibration = consensus.calibrate(sane)
    assert calibration.prior(-0.96) == consensus.PRIOR_CAP
    assert calibration.prior(0.98) < 0.1


def test_a_reliability_counts_within_its_caps() -> None:
    """What a verdict counts with; how reliabilities are learnt is tests/qa/test_em.py."""
    assert consensus.NEW_REVIEWER == 0.85  # the Beta prior's mean
    assert consensus.capped_reliability(0.3) == 0.5  # worse than chance is no evidence
    assert consensus.capped_reliability(0.99) == consensus.RELIABILITY_CAP
    assert consensus.capped_reliability(0.9) == 0.9


def test_reported_fields() -> None:
    assert consensus.reported("pending", 0.7, None) == (None, None)
    assert consensus.reported("match", None, None) == (None, "majority")
    assert consensus.reported("mismatch", 0.25, "majority") == (0.75, "majority")
    assert consensus.reported("match", 0.995, "assisted") == (0.995, "assisted")


def test_a_sparse_level_borrows_its_neighbours_record_unless_its_own_says_otherwise() -> None:
    bins = {-1.0: Bin(100, 99), -0.5: Bin(3, 3), 0.0: Bin(40, 20), 0.5: Bin(10, 1)}
    calibration = consensus.calibrate(bins)
    assert calibration.pooled[-0.5] == calibration.pooled[-1.0] == Bin(103, 102)
    assert calibration.span(-0.5) == (-1.0, -0.5) and calibration.evidence(-0.5) == 103
    assert calibration.pooled[0.0] == Bin(40, 20)  # 0.5 against 0.99: far apart
    assert calibration.evidence(0.7) == 0 and calibration.evidence(None) == math.inf


@FAST
@given(probability, verdict_lists, odd_votes, thresholds)
@example(0.5, [], 3, 0.9999)
def test_while_a_level_is_learnt_its_snapshots_go_to_one_reviewer_at_a_time(
    prior: float, verdicts: list[tuple[bool, float]], votes: int, threshold: float
) -> None:
    """The limit while learning: at least one while pending (a snapshot is never stranded), and
    never more than what the prior as it stands needs."""
    matches = sum(1 for is_match, _ in verdicts if is_match)
    p = consensus.posterior(prior, verdicts)
    standing = consensus.verdicts_needed(p, matches, len(verdicts) - matches, votes, threshold)
    learning = consensus.limit(prior, verdicts, votes, threshold, learning=True)
    assert consensus.limit(prior, verdicts, votes, threshold) == standing
    assert learning <= standing and (learning == 0) == (standing == 0)
    if not verdicts and threshold <= 0.998:  # one verdict at the caps reaches 0.9989
        assert learning == 1

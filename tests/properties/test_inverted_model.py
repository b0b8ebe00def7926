"""Property test: an inverted model never settles a snapshot against two agreeing reliable
reviewers.

Hypothesis draws a history in which the similarity model says the opposite of the truth
(from none at all, where the calibration is still the default map and trusts the scores, to a
few hundred snapshots, where EM has found them worthless), a crowd of reviewers, and fits what
the assisted rule learns from it (service/qa/em.py). Then a new snapshot whose inverted score
points away from its truth gets two agreeing verdicts from reliable reviewers (right at least
80% of the time) and, anywhere among them, possibly one dissenting verdict from anyone,
however reliable the fit thinks them; at any QA_CONFIDENCE and QA_VOTES. Once both agreeing
verdicts are in (if the snapshot is still pending then: a dissent given first may settle it
with a confident model before they are asked), the rule never settles it the model's way.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from service.qa import consensus, em, voting
from service.qa.assisted import Knowledge

CHECKS = settings(max_examples=150, deadline=None, database=None, derandomize=True)

crowds = st.lists(st.floats(min_value=0.5, max_value=0.98), min_size=3, max_size=8)


def inverted_history(seed: int, snapshots: int, crowd: list[float]) -> list[em.Verdict]:
    """Snapshots whose score says the opposite of the truth, 1-3 verdicts each."""
    rng = np.random.default_rng(seed)
    verdicts = []
    for snapshot in range(snapshots):
        truth = bool(rng.random() < 0.9)
        honest = -abs(float(rng.normal(0.6, 0.3))) if truth else abs(float(rng.normal(0.6, 0.3)))
        suspicion = max(min(-honest, 1.0), -1.0)
        for who in rng.choice(len(crowd), size=min(int(rng.integers(1, 4)), len(crowd)),
                              replace=False):  # fmt: skip
            right = bool(rng.random() < crowd[who])
            verdicts.append(em.Verdict(snapshot, suspicion, f"r{who}", truth == right))
    return verdicts


@CHECKS
@given(
    seed=st.integers(min_value=0, max_value=2**32 - 1),
    snapshots=st.sampled_from([0, 5, 30, 300]),
    crowd=crowds,
    truth=st.booleans(),
    strength=st.floats(min_value=0.0, max_value=1.0),
    dissent=st.one_of(st.none(), st.integers(min_value=0, max_value=2)),
    dissenter=st.integers(min_value=0, max_value=8),
    votes=st.sampled_from([3, 5]),
    threshold=st.floats(min_value=0.9, max_value=0.9999),
    data=st.data(),
)
def test_an_inverted_model_never_settles_against_two_agreeing_reliable_reviewers(
    seed: int,
    snapshots: int,
    crowd: list[float],
    truth: bool,
    strength: float,
    dissent: int | None,
    dissenter: int,
    votes: int,
    threshold: float,
    data: st.DataObject,
) -> None:
    known = Knowledge("m", em.fit(em.Evidence.of(inverted_history(seed, snapshots, crowd))))
    # The new snapshot: its score points away from the truth, as strongly as `strength`.
    suspicion = strength if truth else -strength
    reliable = [f"r{i}" for i, accuracy in enumerate(crowd) if accuracy >= 0.8] or ["new"]
    pair = data.draw(st.lists(st.sampled_from(reliable), min_size=2, max_size=2, unique=True)
                     if len(reliable) > 1 else st.just(["r-new-1", "r-new-2"]))  # fmt: skip
    given_verdicts = [(truth, known.reliability(name)) for name in pair]
    if dissent is not None:  # one verdict the model's way, from anyone, at any position
        given_verdicts.insert(dissent, (not truth, known.reliability(f"r{dissenter}")))
    p = known.calibration.prior(suspicion)
    matches = mismatches = 0
    for is_match, reliability in given_verdicts:
        p = consensus.update(p, is_match, reliability)
        matches, mismatches = matches + is_match, mismatches + (not is_match)
        decision = consensus.settle(p, matches, mismatches, votes, threshold)
        agreed = (matches if truth else mismatches) == 2
        if agreed:
            assert decision.status != (voting.MISMATCH if truth else voting.MATCH), decision
        if decision.status != voting.PENDING:
            break

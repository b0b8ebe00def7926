"""The kNN vote and the suspicion score (pure functions)."""

from __future__ import annotations

import pytest

from service.similarity.ranking.votes import Neighbour, suspicion, vote


def test_trust_confirmed_and_references_over_pending_and_ignore_mismatches() -> None:
    at = 0.9  # equal distances: only trust decides
    ranked = vote([
        Neighbour(1, at, "pending"),
        Neighbour(1, at, "pending"),
        Neighbour(1, at, "pending"),
        Neighbour(2, at, "match"),
        Neighbour(2, at, "reference"),
        Neighbour(3, at, "mismatch"),
        Neighbour(3, at, "mismatch"),
    ])  # fmt: skip
    assert [c.product_id for c in ranked] == [2, 1]  # 3 gets no say at all
    assert ranked[0].share == pytest.approx(3.0 / 4.5)
    assert sum(c.share for c in ranked) == pytest.approx(1.0)


def test_votes_fade_with_distance_from_the_best_neighbour() -> None:
    ranked = vote([
        Neighbour(1, 0.95, "pending"),
        Neighbour(2, 0.80, "pending"),
        Neighbour(2, 0.80, "pending"),
        Neighbour(2, 0.80, "pending"),
    ])  # fmt: skip
    assert ranked[0].product_id == 1
    assert ranked[0].best_score == pytest.approx(0.95)


def test_suspicion_is_the_other_products_share_minus_the_own() -> None:
    ranked = vote([Neighbour(7, 0.9, "reference"), Neighbour(5, 0.9, "pending")])
    verdict = suspicion(5, ranked)
    assert verdict.suggested_product_id == 7
    assert verdict.score == pytest.approx(0.8 - 0.2)  # reference 2.0 vs pending 0.5
    assert suspicion(7, ranked).score == pytest.approx(0.2 - 0.8)
    nobody = suspicion(5, vote([Neighbour(1, 0.9, "mismatch")]))
    assert (nobody.score, nobody.suggested_product_id) == (0.0, None)

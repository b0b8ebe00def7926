"""Leaderboard scoring: the Wilson bound, the ranking, and the endpoint on a hand-made case."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from service.qa.leaderboard import QAStats, accuracy_points, rank, wilson_lower_bound
from tests.qa.conftest import QA, user


def test_wilson_lower_bound_matches_the_textbook_formula() -> None:
    z = 1.959963984540054
    for agreed, judged in [(1, 1), (5, 5), (9, 10), (95, 100), (0, 7), (990, 1000)]:
        p = agreed / judged
        expected = (
            p + z * z / (2 * judged)
            - z * math.sqrt(p * (1 - p) / judged + z * z / (4 * judged * judged))
        ) / (1 + z * z / judged)  # fmt: skip
        assert wilson_lower_bound(agreed, judged) == pytest.approx(max(expected, 0.0))
    assert wilson_lower_bound(0, 0) == 0.0


def test_a_few_perfect_reviews_do_not_beat_a_long_good_record() -> None:
    assert accuracy_points(5, 5) < accuracy_points(95, 100) < accuracy_points(990, 1000)
    assert accuracy_points(1, 1) < accuracy_points(9, 10)


def test_rank_orders_by_accuracy_then_activity_and_shares_ties() -> None:
    stats = [
        QAStats("lucky", reviewed=3, judged=3, agreed=3, activity_points=3),
        QAStats("steady", reviewed=200, judged=200, agreed=190, activity_points=200),
        QAStats("twin-b", reviewed=50, judged=50, agreed=45, activity_points=50),
        QAStats("twin-a", reviewed=50, judged=50, agreed=45, activity_points=50),
        QAStats("busy", reviewed=50, judged=50, agreed=45, activity_points=80),
        QAStats("new", reviewed=0, judged=0, agreed=0, activity_points=0),
    ]
    standings = rank(stats)
    assert [s.username for s in standings] == [
        "steady", "busy", "twin-a", "twin-b", "lucky", "new",
    ]  # fmt: skip
    assert [s.rank for s in standings] == [1, 2, 3, 3, 5, 6]
    assert standings[0].agreement_rate == 0.95
    assert standings[-1].agreement_rate is None


def test_leaderboard_endpoint_on_a_hand_made_example(make_qa: Callable[..., QA]) -> None:
    """4 snapshots. alice says match to all; bob to three, and mismatch to the fourth; that
    split brings carol in, who says match. Final: all match. alice agrees 4/4, bob 3/4,
    carol 1/1: carol's perfect single verdict must not outrank bob's 3 of 4."""
    qa = make_qa(snapshots=4, products=1, qa_session_size=4)
    alice = qa.start("alice").json()
    for item in alice["snapshots"]:
        assert qa.answer("alice", alice["session_id"], item["snapshot_id"], True).status_code == 200
    bob = qa.start("bob").json()
    ids = sorted(item["snapshot_id"] for item in bob["snapshots"])
    for snapshot_id in ids:
        verdict = snapshot_id != ids[-1]
        assert qa.answer("bob", bob["session_id"], snapshot_id, verdict).status_code == 200
    carol = qa.start("carol").json()
    assert [item["snapshot_id"] for item in carol["snapshots"]] == [ids[-1]]
    assert qa.answer("carol", carol["session_id"], ids[-1], True).status_code == 200

    response = qa.client.get("/qa/leaderboard", headers=user("dave"))
    assert response.status_code == 200
    board = response.json()
    assert [entry["username"] for entry in board] == ["alice", "bob", "carol"]
    assert [entry["rank"] for entry in board] == [1, 2, 3]
    by_name = {entry["username"]: entry for entry in board}
    assert by_name["alice"]["accuracy_points"] == accuracy_points(4, 4)
    assert by_name["bob"]["accuracy_points"] == accuracy_points(3, 4)
    assert by_name["carol"]["accuracy_points"] == accuracy_points(1, 1)
    assert by_name["bob"]["agreement_rate"] == 0.75
    assert by_name["alice"]["reviewed"] == 4
    assert [by_name[n]["activity_points"] for n in ("alice", "bob", "carol")] == [4, 4, 1]


def test_activity_counts_completed_sessions_only(
    make_qa: Callable[..., QA], clock: Callable[[], object]
) -> None:
    qa = make_qa(snapshots=4, products=1, qa_session_size=2, qa_session_ttl=60)
    session = qa.start("erin").json()
    first = session["snapshots"][0]["snapshot_id"]
    assert qa.answer("erin", session["session_id"], first, True).status_code == 200
    clock.advance(61)  # type: ignore[attr-defined]
    assert qa.client.get("/qa/session", headers=user("erin")).status_code == 404  # expired
    board = qa.client.get("/qa/leaderboard", headers=user("erin")).json()
    assert board == [
        {"rank": 1, "username": "erin", "activity_points": 0, "accuracy_points": 0,
         "reviewed": 1, "agreement_rate": None},
    ]  # fmt: skip

"""QA_CONSENSUS=assisted through the API: how snapshots settle, how many reviewers may hold one,
and the `confidence` / `settled_by` fields of GET /api/snapshots/{id} and /qa/export."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Callable

import pytest

from service.clock import utcnow
from service.similarity.embedding.embedders import create_embedder
from tests.qa.conftest import QA, user

MODEL = create_embedder("default").model


def score(qa: QA, scores: dict[int, float]) -> None:
    """Give snapshots a suspicion score, as the similarity component would."""

    def write(session):  # type: ignore[no-untyped-def]
        for snapshot_id, suspicion in scores.items():
            product = session.raw(
                "SELECT product_id FROM snapshots WHERE id = :id", {"id": snapshot_id}
            )[0]["product_id"]
            session.execute(
                "similarity_insert_suspicion",
                {"snapshot_id": snapshot_id, "model": MODEL, "product_id": product,
                 "suggested_product_id": None, "suspicion": suspicion,
                 "own_share": (1 - suspicion) / 2, "suggested_share": (1 + suspicion) / 2,
                 "population": 100, "now": utcnow()},
            )  # fmt: skip

    qa.engine.write(write)


def resolve(qa: QA, ids: list[int], status: str) -> None:
    """History: snapshots QA settled earlier."""
    now = utcnow()
    qa.engine.write(
        lambda session: [
            session.execute("qa_resolve_snapshot", {"snapshot_id": i, "status": status, "now": now})
            for i in ids
        ]
    )


def answer_all(qa: QA, name: str, verdicts: dict[int, bool]) -> list[int]:
    """Start a session and answer the snapshots in `verdicts` that it holds; returns them."""
    response = qa.start(name)
    assert response.status_code == 201, response.text
    session = response.json()
    held = [item["snapshot_id"] for item in session["snapshots"]]
    for snapshot_id in held:
        if snapshot_id in verdicts:
            result = qa.answer(name, session["session_id"], snapshot_id, verdicts[snapshot_id])
            assert result.status_code == 200, result.text
    return held


def snapshot(qa: QA, snapshot_id: int) -> dict:
    response = qa.client.get(f"/api/snapshots/{snapshot_id}")
    assert response.status_code == 200
    return response.json()


@pytest.fixture
def assisted(make_qa: Callable[..., QA]) -> Callable[..., QA]:
    def build(**changes: object) -> QA:
        return make_qa(qa_consensus="assisted", **changes)

    return build


def test_confidence_and_settled_by_on_the_snapshot_and_the_export(
    assisted: Callable[..., QA],
) -> None:
    qa = assisted(snapshots=3, products=1, qa_session_size=3)
    confident, unscored, untouched = sorted(qa.snapshot_ids)
    score(qa, {confident: -1.0})  # every neighbour votes for its product: default prior 0.9
    both = {confident: True, unscored: True}
    assert set(answer_all(qa, "alice", both)) == {confident, unscored, untouched}
    # alice's verdict left `confident` at 0.981: free again for one more reviewer
    assert set(answer_all(qa, "bob", both)) == {confident, unscored, untouched}

    by_model = snapshot(qa, confident)
    # prior odds 9 (0.9), then two new reviewers at 0.85 (odds 17/3 each): 289/290 >= 0.99
    assert by_model["status"] == "match" and by_model["settled_by"] == "assisted"
    assert by_model["confidence"] == pytest.approx(289 / 290, abs=1e-6)
    by_majority = snapshot(qa, unscored)
    # no model opinion (0.5): two verdicts give 0.97; the majority of 3 is certain and agrees
    assert by_majority["status"] == "match" and by_majority["settled_by"] == "majority"
    assert by_majority["confidence"] == pytest.approx(289 / 298, abs=1e-6)
    pending = snapshot(qa, untouched)
    assert (pending["status"], pending["confidence"], pending["settled_by"]) == (
        "pending", None, None
    )  # fmt: skip

    rows = list(csv.DictReader(io.StringIO(qa.client.get("/qa/export", headers=user("x")).text)))
    assert [(r["settled_by"], r["confidence"][:6]) for r in rows] == [
        ("assisted", "0.9965"), ("majority", "0.9697"), ("", "")
    ]  # fmt: skip
    jsonl = qa.client.get("/qa/export?status=match&format=jsonl", headers=user("x")).text
    records = [json.loads(line) for line in jsonl.splitlines()]
    assert [(r["snapshot_id"], r["settled_by"]) for r in records] == [
        (confident, "assisted"), (unscored, "majority")
    ]  # fmt: skip
    assert records[0]["confidence"] == pytest.approx(289 / 290, abs=1e-6)


def test_a_snapshot_goes_to_one_reviewer_at_a_time_when_one_verdict_may_settle_it(
    assisted: Callable[..., QA],
) -> None:
    qa = assisted(snapshots=2, products=1, qa_session_size=5)
    confident, unscored = sorted(qa.snapshot_ids)
    score(qa, {confident: -1.0})
    assert set(answer_all(qa, "alice", {})) == {confident, unscored}
    assert answer_all(qa, "bob", {}) == [unscored]  # `confident` may need only alice's verdict
    limits = {r["id"]: (r["reserved"], r["verdicts_needed"])
              for r in qa.sql("SELECT id, reserved, verdicts_needed FROM snapshots")}  # fmt: skip
    assert limits == {confident: (1, 1), unscored: (2, 2)}
    response = qa.start("carol")
    assert response.status_code == 400
    assert response.json() == {"error": "Not enough snapshots to validate"}


def test_with_history_one_agreeing_verdict_settles_and_a_disagreeing_one_asks_for_more(
    assisted: Callable[..., QA],
) -> None:
    qa = assisted(snapshots=60, products=2, qa_session_size=10)
    ids = sorted(qa.snapshot_ids)
    history, fresh = ids[:50], ids[50:]
    score(qa, dict.fromkeys(ids, -1.0))
    resolve(qa, history, "match")  # QA confirmed every snapshot the model was sure of
    doubted = fresh[0]
    verdicts = {i: i != doubted for i in fresh}
    assert set(answer_all(qa, "alice", verdicts)) == set(fresh)

    settled = [snapshot(qa, i) for i in fresh[1:]]
    # 50 of 50 confirmed make the prior 0.98 (the cap, odds 49); one new reviewer (odds 17/3)
    assert all(s["status"] == "match" and s["settled_by"] == "assisted" for s in settled)
    assert all(s["votes"] == {"match": 1, "mismatch": 0} for s in settled)
    # alice starts at 0.85; refits (in the background, every few verdicts) learn her
    # reliability from her agreement with the model, which has earned its trust
    rows = qa.sql("SELECT snapshot_id, reliability FROM qa_assignments "
                  "WHERE username = 'alice' ORDER BY answered_at")  # fmt: skip
    counted = {r["snapshot_id"]: r["reliability"] for r in rows}
    assert rows[0]["reliability"] == pytest.approx(0.85)
    for shown in settled:
        r = counted[shown["snapshot_id"]]
        odds = 49 * r / (1 - r)
        assert shown["confidence"] == pytest.approx(odds / (1 + odds), abs=1e-6)
        assert 0.8 <= r <= 0.95
    assert snapshot(qa, doubted)["status"] == "pending"  # the model said yes, alice no
    [alice] = qa.client.get("/qa/leaderboard", headers=user("x")).json()
    assert 0.85 < alice["reliability"] <= 0.95  # 9 of 10 with a model proven right 50 times
    assert answer_all(qa, "bob", {doubted: True}) == [doubted]
    # 1-1 with the model's 0.98 is not 0.99: a third reviewer decides
    assert snapshot(qa, doubted)["status"] == "pending"
    answer_all(qa, "carol", {doubted: True})
    final = snapshot(qa, doubted)
    assert final["status"] == "match" and final["votes"] == {"match": 2, "mismatch": 1}


def test_the_majority_rule_leaves_the_model_columns_alone(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=1, products=1)
    [only] = qa.snapshot_ids
    score(qa, {only: -1.0})
    for name in ("alice", "bob"):
        answer_all(qa, name, {only: True})
    shown = snapshot(qa, only)
    assert (shown["status"], shown["confidence"], shown["settled_by"]) == (
        "match", None, "majority"
    )  # fmt: skip
    [row] = qa.sql("SELECT prior, posterior, verdicts_needed, settled_by FROM snapshots")
    assert set(row.values()) == {None}
    assert {r["reliability"] for r in qa.sql("SELECT reliability FROM qa_assignments")} == {None}
    board = qa.client.get("/qa/leaderboard", headers=user("x")).json()
    assert ["reliability" in entry for entry in board] == [False, False]  # as specified


def test_suspects_first_under_the_assisted_rule(assisted: Callable[..., QA]) -> None:
    """QA_PRIORITY=suspects keeps working: the most suspicious come first, and the queue still
    empties (the suspects query applies the majority's limit; the reservation the exact one)."""
    qa = assisted(snapshots=12, products=2, qa_session_size=4, qa_priority="suspects")
    ids = sorted(qa.snapshot_ids)
    score(qa, {i: (0.9 if n < 4 else -1.0) for n, i in enumerate(ids)})
    first = answer_all(qa, "alice", {i: False for i in ids[:4]})
    assert sorted(first) == ids[:4]
    names = iter(f"qa{n}" for n in range(100))
    truth = dict.fromkeys(ids, True) | dict.fromkeys(ids[:4], False)
    while qa.sql("SELECT id FROM snapshots WHERE status = 'pending' LIMIT 1"):
        name = next(names)
        response = qa.start(name)
        if response.status_code == 400:  # what was left settled with the verdicts it had
            assert response.json() == {"error": "Not enough snapshots to validate"}
            assert not qa.sql("SELECT id FROM snapshots WHERE status = 'pending' LIMIT 1")
            break
        session = response.json()
        for item in session["snapshots"]:
            result = qa.answer(name, session["session_id"], item["snapshot_id"],
                               truth[item["snapshot_id"]])  # fmt: skip
            assert result.status_code == 200, result.text
    statuses = {r["id"]: r["status"] for r in qa.sql("SELECT id, status FROM snapshots")}
    assert [statuses[i] for i in ids] == ["mismatch"] * 4 + ["match"] * 8


def test_suspects_first_skips_snapshots_whose_own_limit_is_reached(
    assisted: Callable[..., QA],
) -> None:
    """Under the assisted rule a snapshot may need one verdict only: once it is reserved, the
    suspects picker must offer the free ones instead (not its majority-rule limit of two)."""
    qa = assisted(snapshots=20, products=2, qa_session_size=9, qa_priority="suspects")
    ids = sorted(qa.snapshot_ids)
    score(qa, {i: (1.0 if n >= 11 else -1.0) for n, i in enumerate(ids)})
    alice = qa.start("alice")
    assert alice.status_code == 201, alice.text
    held = {item["snapshot_id"] for item in alice.json()["snapshots"]}
    bob = qa.start("bob")
    assert bob.status_code == 201, bob.text
    given = {item["snapshot_id"] for item in bob.json()["snapshots"]}
    needed = {
        r["id"]: r["verdicts_needed"] for r in qa.sql("SELECT id, verdicts_needed FROM snapshots")
    }
    over = [i for i in given & held if needed[i] is not None and needed[i] < 2]
    assert not over and len(given) == 9


def test_the_first_sessions_mix_suspicion_levels(assisted: Callable[..., QA]) -> None:
    """Early in a catalog a session is dealt out across suspicion levels in turn, so that the
    first verdicts teach the calibration everywhere, not only where snapshots are common."""
    qa = assisted(snapshots=100, products=2, qa_session_size=10)
    ids = sorted(qa.snapshot_ids)
    rare = [-0.5, 0.0, 0.5, 1.0]
    levels = {i: (-1.0 if n < 60 else rare[(n - 60) // 10]) for n, i in enumerate(ids)}
    score(qa, levels)
    held = answer_all(qa, "alice", {})
    assert len(held) == 10
    assert Counter(levels[i] for i in held) == dict.fromkeys([-1.0, *rare], 2)


def test_switching_to_the_assisted_rule_with_snapshots_held(make_qa: Callable[..., QA]) -> None:
    """Snapshots given out under the majority rule, one answered and one still held, after a
    switch to the assisted rule: the answered one waits for the verdict the holder owes on the
    other (same score, so it teaches the calibration there), then both settle, and every
    stored posterior is its prior and verdicts replayed."""
    from service.qa import consensus

    before = make_qa(snapshots=2, products=1, qa_session_size=2)  # the majority rule
    answered, held = sorted(before.snapshot_ids)
    score(before, {answered: -1.0, held: -1.0})
    session = before.start("alice").json()
    assert before.answer("alice", session["session_id"], answered, True).status_code == 200
    after = make_qa(snapshots=0, qa_consensus="assisted")  # the same database
    waiting = after.start("bob")
    assert waiting.status_code == 400, waiting.text
    assert after.answer("alice", session["session_id"], held, True).status_code == 200
    for name in ("bob", "carol", "dave"):  # until both are settled
        response = after.start(name)
        if response.status_code == 400:  # settled by the verdicts they have, or by nobody's
            break
        for item in response.json()["snapshots"]:
            result = after.answer(name, response.json()["session_id"], item["snapshot_id"], True)
            assert result.status_code == 200, result.text
    rows = after.sql("SELECT id, status, reserved, prior, posterior FROM snapshots")
    assert {(r["status"], r["reserved"]) for r in rows} == {("match", 0)}
    for row in rows:
        verdicts = after.sql(
            "SELECT is_match, reliability FROM qa_assignments "
            "WHERE snapshot_id = :id AND is_match IS NOT NULL", {"id": row["id"]}
        )  # fmt: skip
        replayed = consensus.posterior(
            row["prior"], [(bool(v["is_match"]), v["reliability"]) for v in verdicts]
        )
        assert replayed == pytest.approx(row["posterior"], rel=1e-9)

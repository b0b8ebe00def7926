"""The QA API: every status code, the voting rules through HTTP, reservations and TTL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.qa.conftest import QA, Clock, user

ENDPOINTS = [
    ("POST", "/qa/session"),
    ("GET", "/qa/session"),
    ("PATCH", "/qa/session/1/snapshot/1"),
    ("GET", "/qa/leaderboard"),
    ("GET", "/qa/export"),
]


BAD_HEADERS: list[dict[str, str | bytes]] = [
    {}, {"username": ""}, {"username": "x" * 65}, {"username": "bad name"},
    {"username": "semi;colon"}, {"username": "ünï".encode("latin-1")},
]  # fmt: skip


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_username_header_is_required_and_checked(
    make_qa: Callable[..., QA], method: str, path: str
) -> None:
    qa = make_qa(snapshots=1)
    for headers in BAD_HEADERS:
        response = qa.client.request(method, path, headers=headers, json={"is_match": True})
        assert response.status_code == 400, headers
        assert "username" in response.json()["error"]
    assert qa.sql("SELECT COUNT(*) AS n FROM qa_sessions")[0]["n"] == 0


def test_usernames_with_allowed_characters_pass(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=1)
    for name in ["a", "A.b_c-9", "x" * 64]:
        assert qa.client.get("/qa/leaderboard", headers=user(name)).status_code == 200


def test_create_session_returns_snapshots_to_review(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=8, products=2, qa_session_size=5)
    response = qa.start("alice")
    assert response.status_code == 201
    body = response.json()
    assert set(body) == {"session_id", "remaining_snapshots_quantity", "snapshots"}
    assert body["remaining_snapshots_quantity"] == 5
    assert len(body["snapshots"]) == 5
    item = body["snapshots"][0]
    assert set(item) >= {
        "snapshot_id", "snapshot_image_url", "product_id", "product_name", "product_image_url",
    }  # fmt: skip
    assert item["snapshot_image_url"].startswith("/images/")
    assert qa.client.get(item["snapshot_image_url"]).status_code == 200
    assert qa.client.get(item["product_image_url"]).status_code == 200
    # one product's snapshots come in a row
    products = [s["product_id"] for s in body["snapshots"]]
    assert products == sorted(products)
    assert len({s["snapshot_id"] for s in body["snapshots"]}) == 5


def test_a_small_queue_gives_a_short_session(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=3, qa_session_size=100)
    body = qa.start("alice").json()
    assert body["remaining_snapshots_quantity"] == 3
    assert len(body["snapshots"]) == 3


def test_second_session_while_one_is_open_is_refused(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=10, qa_session_size=2)
    assert qa.start("alice").status_code == 201
    response = qa.start("alice")
    assert response.status_code == 400
    assert response.json() == {"error": "Session already exists"}


def test_empty_queue(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=0)
    response = qa.start("alice")
    assert response.status_code == 400
    assert response.json() == {"error": "Not enough snapshots to validate"}
    # the refused attempt left no open session behind
    assert qa.client.get("/qa/session", headers=user("alice")).status_code == 404


def test_get_session(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=10, qa_session_size=3)
    missing = qa.client.get("/qa/session", headers=user("alice"))
    assert missing.status_code == 404
    assert "error" in missing.json()
    created = qa.start("alice").json()
    first = created["snapshots"][0]["snapshot_id"]
    assert qa.answer("alice", created["session_id"], first, True).status_code == 200
    current = qa.client.get("/qa/session", headers=user("alice"))
    assert current.status_code == 200
    body = current.json()
    assert body["session_id"] == created["session_id"]
    assert body["remaining_snapshots_quantity"] == 2
    assert body["snapshots"] == created["snapshots"][1:]
    # another user has no session
    assert qa.client.get("/qa/session", headers=user("bob")).status_code == 404


def test_answering_counts_down_and_closes_the_session(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=10, qa_session_size=3)
    session = qa.start("alice").json()
    remaining = [
        qa.answer("alice", session["session_id"], item["snapshot_id"], True).json()
        for item in session["snapshots"]
    ]
    assert remaining == [{"remaining_snapshots_quantity": n} for n in (2, 1, 0)]
    assert qa.client.get("/qa/session", headers=user("alice")).status_code == 404
    assert qa.start("alice").status_code == 201  # a finished session allows a new one
    [row] = qa.sql(
        "SELECT status, answered, closed_at FROM qa_sessions WHERE id = :id",
        {"id": session["session_id"]},
    )
    assert row["status"] == "completed" and row["answered"] == 3 and row["closed_at"]


def test_patch_status_codes(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=10, qa_session_size=3)
    session = qa.start("alice").json()
    sid = session["session_id"]
    mine = session["snapshots"][0]["snapshot_id"]
    not_mine = next(i for i in qa.snapshot_ids if i not in {
        s["snapshot_id"] for s in session["snapshots"]})  # fmt: skip
    bob = qa.start("bob").json()

    assert qa.answer("alice", sid + 1000, mine, True).status_code == 404  # no such session
    assert qa.answer("alice", sid, not_mine, True).status_code == 404  # not in the session
    assert qa.answer("alice", sid, 10**9, True).status_code == 404  # no such snapshot
    # bob's session and bob's snapshot are not alice's to answer, and vice versa
    bob_item = bob["snapshots"][0]["snapshot_id"]
    assert qa.answer("alice", bob["session_id"], bob_item, True).status_code == 404
    assert qa.answer("bob", sid, mine, True).status_code == 404

    first = qa.answer("alice", sid, mine, False)
    assert first.status_code == 200
    again = qa.answer("alice", sid, mine, True)
    assert again.status_code == 409
    assert "error" in again.json()
    [row] = qa.sql("SELECT is_match FROM qa_assignments WHERE snapshot_id = :id AND "
                   "username = 'alice'", {"id": mine})  # fmt: skip
    assert row["is_match"] == 0  # the first answer stands


@pytest.mark.parametrize(
    "body",
    [
        b'{"is_match": 1}',
        b'{"is_match": "true"}',
        b'{"is_match": null}',
        b"{}",
        b'{"is_match": true, "comment": "x"}',
        b'{"match": true}',
        b"[true]",
        b"true",
        b"null",
        b"not json",
        b"",
    ],
)
def test_patch_body_must_be_exactly_is_match(make_qa: Callable[..., QA], body: bytes) -> None:
    qa = make_qa(snapshots=5, qa_session_size=2)
    session = qa.start("alice").json()
    item = session["snapshots"][0]["snapshot_id"]
    response = qa.client.patch(
        f"/qa/session/{session['session_id']}/snapshot/{item}",
        content=body,
        headers={**user("alice"), "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert "error" in response.json()
    # nothing was recorded
    [row] = qa.sql("SELECT votes_match + votes_mismatch AS n FROM snapshots WHERE id = :id",
                   {"id": item})  # fmt: skip
    assert row["n"] == 0


def _snapshot(qa: QA, snapshot_id: int) -> dict[str, object]:
    response = qa.client.get(f"/api/snapshots/{snapshot_id}")
    assert response.status_code == 200
    return response.json()


def test_two_agreeing_votes_resolve_and_the_snapshot_leaves_the_queue(
    make_qa: Callable[..., QA],
) -> None:
    qa = make_qa(snapshots=1, products=1, qa_session_size=5)
    [snapshot_id] = qa.snapshot_ids
    a, b = qa.start("alice").json(), qa.start("bob").json()
    # two reservations are all a fresh snapshot may have: a third QA gets nothing
    assert qa.start("carol").json() == {"error": "Not enough snapshots to validate"}
    assert qa.answer("alice", a["session_id"], snapshot_id, False).status_code == 200
    assert _snapshot(qa, snapshot_id)["status"] == "pending"
    assert qa.answer("bob", b["session_id"], snapshot_id, False).status_code == 200
    snap = _snapshot(qa, snapshot_id)
    assert snap["status"] == "mismatch"
    assert snap["votes"] == {"match": 0, "mismatch": 2}
    assert qa.start("carol").json() == {"error": "Not enough snapshots to validate"}


def test_a_split_asks_exactly_one_more_qa(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=1, products=1, qa_session_size=5)
    [snapshot_id] = qa.snapshot_ids
    a, b = qa.start("alice").json(), qa.start("bob").json()
    qa.answer("alice", a["session_id"], snapshot_id, True)
    qa.answer("bob", b["session_id"], snapshot_id, False)
    assert _snapshot(qa, snapshot_id)["status"] == "pending"
    carol = qa.start("carol")
    assert carol.status_code == 201
    assert qa.start("dave").json() == {"error": "Not enough snapshots to validate"}
    qa.answer("carol", carol.json()["session_id"], snapshot_id, True)
    snap = _snapshot(qa, snapshot_id)
    assert snap["status"] == "match"
    assert snap["votes"] == {"match": 2, "mismatch": 1}
    assert qa.start("dave").json() == {"error": "Not enough snapshots to validate"}


def test_one_open_reservation_after_one_vote(make_qa: Callable[..., QA]) -> None:
    """1-0 needs one more verdict: while someone holds it, nobody else gets it."""
    qa = make_qa(snapshots=1, products=1, qa_session_size=5)
    [snapshot_id] = qa.snapshot_ids
    a = qa.start("alice").json()
    qa.answer("alice", a["session_id"], snapshot_id, True)
    assert qa.start("bob").status_code == 201
    assert qa.start("carol").json() == {"error": "Not enough snapshots to validate"}


def test_no_user_gets_the_same_snapshot_twice(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=6, products=2, qa_session_size=4)
    seen: list[int] = []
    while (response := qa.start("alice")).status_code == 201:
        session = response.json()
        for item in session["snapshots"]:
            seen.append(item["snapshot_id"])
            qa.answer("alice", session["session_id"], item["snapshot_id"], True)
    assert response.json() == {"error": "Not enough snapshots to validate"}
    assert sorted(seen) == sorted(qa.snapshot_ids)  # each once, then nothing is left for her
    assert qa.start("bob").status_code == 201  # while others still can review them


def test_idle_session_is_released_after_the_ttl(make_qa: Callable[..., QA], clock: Clock) -> None:
    qa = make_qa(snapshots=2, products=1, qa_session_size=2, qa_session_ttl=600)
    a, b = qa.start("alice").json(), qa.start("bob").json()
    answered = a["snapshots"][0]["snapshot_id"]
    qa.answer("alice", a["session_id"], answered, True)
    assert qa.start("carol").json() == {"error": "Not enough snapshots to validate"}

    clock.advance(599)  # bob stays within the TTL by answering
    qa.answer("bob", b["session_id"], b["snapshots"][0]["snapshot_id"], True)
    clock.advance(2)  # alice is now idle for 601 s, bob for 2 s
    carol = qa.start("carol")  # creating a session sweeps idle ones first
    assert carol.status_code == 201
    released = {s["snapshot_id"] for s in carol.json()["snapshots"]}
    unanswered = {s["snapshot_id"] for s in a["snapshots"]} - {answered}
    assert unanswered <= released

    assert qa.client.get("/qa/session", headers=user("alice")).status_code == 404
    late = qa.answer("alice", a["session_id"], a["snapshots"][1]["snapshot_id"], True)
    assert late.status_code == 404
    assert qa.client.get("/qa/session", headers=user("bob")).status_code == 200
    [row] = qa.sql("SELECT status FROM qa_sessions WHERE id = :id", {"id": a["session_id"]})
    assert row["status"] == "expired"
    # alice's answered verdict still counts
    assert _snapshot(qa, answered)["votes"]["match"] == 2
    # and alice is never handed the released snapshots again
    again = qa.start("alice")
    got = {s["snapshot_id"] for s in again.json().get("snapshots", [])}
    assert not got & {s["snapshot_id"] for s in a["snapshots"]}


def test_a_late_vote_on_an_idle_session_releases_it(
    make_qa: Callable[..., QA], clock: Clock
) -> None:
    qa = make_qa(snapshots=3, products=1, qa_session_size=3, qa_session_ttl=60)
    a = qa.start("alice").json()
    clock.advance(61)
    late = qa.answer("alice", a["session_id"], a["snapshots"][0]["snapshot_id"], True)
    assert late.status_code == 404
    assert "expired" in late.json()["error"].lower()
    reserved = qa.sql("SELECT SUM(reserved) AS n FROM snapshots")[0]["n"]
    assert reserved == 0
    assert qa.start("alice").status_code == 400  # nothing new for her
    assert qa.start("bob").status_code == 201


def test_background_sweeper_releases_without_requests(
    make_qa: Callable[..., QA], clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    from service.qa import sweeper

    monkeypatch.setattr(sweeper, "interval", lambda ttl: 0.02)
    qa = make_qa(snapshots=2, products=1, qa_session_size=2, qa_session_ttl=60)
    session = qa.start("alice").json()
    clock.advance(61)
    deadline = time.monotonic() + 10
    while qa.sql("SELECT status FROM qa_sessions")[0]["status"] == "open":
        assert time.monotonic() < deadline, "the sweeper never expired the idle session"
        time.sleep(0.02)
    assert qa.sql("SELECT SUM(reserved) AS n FROM snapshots")[0]["n"] == 0
    [row] = qa.sql("SELECT open_session_id FROM qa_users WHERE username = 'alice'")
    assert row["open_session_id"] is None
    assert session["session_id"]


def test_the_majority_sweep_settles_what_the_assisted_rule_left_past_a_majority(
    make_qa: Callable[..., QA], monkeypatch: pytest.MonkeyPatch
) -> None:
    """After a switch from QA_CONSENSUS=assisted back to majority: a snapshot left pending at
    0-2 (the assisted rule escalated it) settles; the others are untouched."""
    import time

    from service.qa import sweeper

    monkeypatch.setattr(sweeper, "interval", lambda ttl: 0.02)
    qa = make_qa(snapshots=3, products=1, qa_session_size=3)
    first, second, third = sorted(qa.snapshot_ids)
    votes = "UPDATE snapshots SET votes_match = :yes, votes_mismatch = :no WHERE id = :id"
    qa.engine.write(lambda session: session.raw(votes, {"yes": 0, "no": 2, "id": first}))
    qa.engine.write(lambda session: session.raw(votes, {"yes": 1, "no": 1, "id": second}))
    deadline = time.monotonic() + 10
    while qa.sql("SELECT status FROM snapshots WHERE id = :a", {"a": first})[0]["status"] == (
        "pending"
    ):
        assert time.monotonic() < deadline, "the sweep never settled the decided snapshot"
        time.sleep(0.02)
    statuses = {r["id"]: r["status"] for r in qa.sql("SELECT id, status FROM snapshots")}
    assert statuses == {first: "mismatch", second: "pending", third: "pending"}


def test_export(make_qa: Callable[..., QA]) -> None:
    import csv
    import io
    import json

    qa = make_qa(snapshots=3, products=1, qa_session_size=3)
    for name, verdicts in (("alice", [True, True, True]), ("bob", [True, True, False])):
        session = qa.start(name).json()
        ordered = sorted(s["snapshot_id"] for s in session["snapshots"])
        for snapshot_id, verdict in zip(ordered, verdicts, strict=True):
            qa.answer(name, session["session_id"], snapshot_id, verdict)
    matched = sorted(qa.snapshot_ids)[:2]  # 2-0; the third is split 1-1 and still pending

    csv_response = qa.client.get("/qa/export", headers=user("x"))
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(csv_response.text)))
    assert [int(r["snapshot_id"]) for r in rows] == sorted(qa.snapshot_ids)
    assert set(rows[0]) == {
        "snapshot_id", "product_upc", "image_url", "votes_match", "votes_mismatch", "status",
        "confidence", "settled_by", "moves",
    }  # fmt: skip
    assert {r["moves"] for r in rows} == {"0"}  # no lead moved any
    # the majority rule: no model posterior; settled_by only once settled
    assert [(r["confidence"], r["settled_by"]) for r in rows] == [
        ("", "majority"),
        ("", "majority"),
        ("", ""),
    ]

    jsonl = qa.client.get("/qa/export?status=match&format=jsonl", headers=user("x"))
    assert jsonl.status_code == 200
    records = [json.loads(line) for line in jsonl.text.splitlines()]
    assert [r["snapshot_id"] for r in records] == matched
    assert all(r["status"] == "match" and r["votes_match"] == 2 for r in records)
    assert all(r["confidence"] is None and r["settled_by"] == "majority" for r in records)

    pending = qa.client.get("/qa/export?status=pending&format=jsonl", headers=user("x"))
    assert [json.loads(line)["snapshot_id"] for line in pending.text.splitlines()] == [
        max(qa.snapshot_ids)
    ]

    for bad in ("?format=xml", "?status=done"):
        response = qa.client.get(f"/qa/export{bad}", headers=user("x"))
        assert response.status_code == 400
        assert "error" in response.json()


def test_export_streams_more_than_one_page(make_qa: Callable[..., QA]) -> None:
    from service.qa import reports

    qa = make_qa(snapshots=reports.EXPORT_PAGE + 5, products=3)
    response = qa.client.get("/qa/export?format=jsonl", headers=user("x"))
    assert len(response.text.splitlines()) == reports.EXPORT_PAGE + 5


def test_a_registered_picker_order_is_kept(
    make_qa: Callable[..., QA], monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA_PRIORITY pickers (suspects first, say) decide which snapshots a session gets."""
    import dataclasses

    from service.qa import picking

    def highest_ids_first(session, request):  # type: ignore[no-untyped-def]
        everything = picking.pick_random(session, dataclasses.replace(request, limit=10**6))
        return sorted(everything, key=lambda row: -row["id"])[: request.limit]

    monkeypatch.setitem(picking._PICKERS, "test-highest-first", highest_ids_first)
    qa = make_qa(snapshots=30, products=3, qa_session_size=5, qa_priority="test-highest-first")
    got = {s["snapshot_id"] for s in qa.start("alice").json()["snapshots"]}
    assert got == set(sorted(qa.snapshot_ids)[-5:])

"""PATCH /api/snapshots/{id} (a lead's move or marks), its undo and its history: every status
code, what a move does to QA (reservations, votes, the leaderboard, the export), and the race
of two leads on one version, on SQLite and on MariaDB (the SingleStore stand-in)."""

from __future__ import annotations

import csv
import io
import threading
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from service.config import Settings
from tests.lead.conftest import LEAD, Desk, lead
from tests.qa.conftest import QA, Clock, user


@pytest.fixture(params=["sqlite", "mariadb"])
def qa_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Each test here runs on both engines."""
    if request.param == "mariadb":
        return msgspec.structs.replace(
            settings, database_url=request.getfixturevalue("mariadb_url")
        )
    return settings


@pytest.fixture
def make_desk(make_qa: Callable[..., QA]) -> Callable[..., Desk]:
    def build(**changes: Any) -> Desk:
        changes.setdefault("snapshots", 6)
        changes.setdefault("products", 3)
        changes.setdefault("qa_session_size", 6)
        return Desk(make_qa(**changes))

    return build


def leaderboard(desk: Desk) -> list[dict[str, Any]]:
    return desk.client.get("/qa/leaderboard", headers=user("x")).json()


# -- a move ---------------------------------------------------------------------------------


def test_a_move_reattributes_records_and_sends_it_back_to_qa(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(snapshots=3, products=3, qa_session_size=3)
    qa = desk.qa
    # alice and bob both say "not a match" to the first snapshot: settled as a mismatch
    first = sorted(qa.snapshot_ids)[0]
    for name in ("alice", "bob"):
        session = qa.start(name).json()
        assert qa.answer(name, session["session_id"], first, False).status_code == 200
    before = desk.snapshot(first)
    assert (before["status"], before["version"], before["moves"]) == ("mismatch", 0, 0)
    board = leaderboard(desk)
    target = desk.other_upc(first)

    moved = desk.move(first, target, version=0, reason="the label says so")
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert moved.headers["etag"] == '"1"'
    assert body["product"]["upc"] == target
    assert (body["version"], body["moves"], body["status"], body["votes"]) == (
        1, 1, "pending", {"match": 0, "mismatch": 0},
    )  # fmt: skip
    assert (body["settled_by"], body["resolved_at"], body["reviewed_by"]) == (None, None, LEAD)

    [record] = desk.history(first)
    assert record["kind"] == "move" and record["seq"] == 1 and record["moved_by"] == LEAD
    assert record["from_product"]["upc"] == before["product"]["upc"]
    assert record["to_product"]["upc"] == target
    assert record["reason"] == "the label says so" and record["qa_outcome"] == "pending"
    held = record["held"]
    assert (held["status"], held["votes"], held["settled_by"]) == (
        "mismatch", {"match": 0, "mismatch": 2}, "majority",
    )  # fmt: skip
    assert sorted((v["username"], v["is_match"]) for v in held["verdicts"]) == [
        ("alice", False), ("bob", False),
    ]  # fmt: skip
    # The verdicts stay (in the history) but count for nothing now; their credit stays too.
    assert desk.sql("SELECT COUNT(*) AS n FROM qa_assignments WHERE snapshot_id = :id",
                  {"id": first}) == [{"n": 0}]  # fmt: skip
    assert leaderboard(desk) == board

    # Back in the queue for its new product: even alice and bob may judge it now.
    again = qa.start("carol").json()
    assert first in [s["snapshot_id"] for s in again["snapshots"]]
    item = next(s for s in again["snapshots"] if s["snapshot_id"] == first)
    assert item["product_upc"] == target

    exported = {
        int(r["snapshot_id"]): r
        for r in csv.DictReader(io.StringIO(qa.client.get("/qa/export", headers=user("x")).text))
    }
    assert (exported[first]["product_upc"], exported[first]["moves"]) == (target, "1")


def test_trusting_the_lead_settles_a_moved_snapshot_as_a_match(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(snapshots=1, products=2, qa_session_size=1, qa_trust_lead=True)
    [snapshot_id] = desk.qa.snapshot_ids
    moved = desk.move(snapshot_id, desk.other_upc(snapshot_id))
    assert moved.status_code == 200, moved.text
    body = moved.json()
    assert (body["status"], body["settled_by"], body["confidence"]) == ("match", "lead", None)
    assert body["resolved_at"] is not None
    assert desk.history(snapshot_id)[0]["qa_outcome"] == "lead"
    # Settled: QA is not handed it.
    assert desk.qa.start("alice").json() == {"error": "Not enough snapshots to validate"}
    [row] = desk.sql("SELECT status, settled_by, verdicts_needed, reserved FROM snapshots")
    assert row == {"status": "match", "settled_by": "lead", "verdicts_needed": 0, "reserved": 0}
    jsonl = desk.client.get("/qa/export?format=jsonl", headers=user("x")).json()
    assert (jsonl["settled_by"], jsonl["moves"]) == ("lead", 1)


def test_open_reservations_are_released_and_a_late_verdict_is_a_409(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(snapshots=2, products=2, qa_session_size=2)
    qa = desk.qa
    first, second = sorted(qa.snapshot_ids)
    alice = qa.start("alice").json()
    bob = qa.start("bob").json()
    assert qa.answer("bob", bob["session_id"], second, True).status_code == 200
    assert desk.snapshot(first)["product"]  # held by alice and bob, unanswered
    assert desk.sql("SELECT reserved FROM snapshots WHERE id = :id", {"id": first}) == [
        {"reserved": 2}
    ]

    assert desk.move(first, desk.other_upc(first)).status_code == 200
    assert desk.history(first)[0]["held"]["released"] == 2
    assert desk.sql("SELECT reserved FROM snapshots WHERE id = :id", {"id": first}) == [
        {"reserved": 0}
    ]
    # alice's session shrank to the one snapshot left; bob's, with nothing left, completed.
    mine = qa.client.get("/qa/session", headers=user("alice")).json()
    assert mine["remaining_snapshots_quantity"] == 1
    assert [s["snapshot_id"] for s in mine["snapshots"]] == [second]
    assert qa.client.get("/qa/session", headers=user("bob")).status_code == 404
    sessions = {r["username"]: r for r in desk.sql("SELECT username, status, size, answered "
                                                  "FROM qa_sessions")}  # fmt: skip
    assert sessions["bob"] == {"username": "bob", "status": "completed", "size": 1, "answered": 1}
    # A verdict on the withdrawn snapshot is refused with 409 (the QA page: delivered).
    late = qa.answer("alice", alice["session_id"], first, True)
    assert late.status_code == 409
    assert "moved" in late.json()["error"]
    assert qa.answer("alice", alice["session_id"], second, False).status_code == 200
    assert qa.client.get("/qa/session", headers=user("alice")).status_code == 404
    # bob may start again at once, and alice too: the moved snapshot is theirs to judge again
    assert first in [s["snapshot_id"] for s in qa.start("bob").json()["snapshots"]]
    assert qa.start("alice").status_code == 201


def test_a_verdict_on_a_hand_out_a_move_took_and_an_undo_gave_back_is_a_409(
    make_desk: Callable[..., Desk],
) -> None:
    """The undo brings the withdrawn hand-out back released (its reviewer never gets it
    again): a verdict the reviewer sends for it is the 409 of a move, not "session expired"."""
    desk = make_desk(snapshots=2, products=2, qa_session_size=2)
    qa = desk.qa
    first, second = sorted(qa.snapshot_ids)
    alice = qa.start("alice").json()
    assert desk.move(first, desk.other_upc(first)).status_code == 200
    assert desk.undo(first).status_code == 200
    late = qa.answer("alice", alice["session_id"], first, True)
    assert late.status_code == 409 and "moved" in late.json()["error"]
    assert qa.answer("alice", alice["session_id"], second, True).status_code == 200


def test_undo_restores_the_product_and_the_qa_state_held(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(snapshots=1, products=2, qa_session_size=1)
    qa = desk.qa
    [snapshot_id] = qa.snapshot_ids
    origin = desk.upc_of(snapshot_id)
    for name in ("alice", "bob"):
        session = qa.start(name).json()
        assert qa.answer(name, session["session_id"], snapshot_id, True).status_code == 200
    settled = desk.snapshot(snapshot_id)
    assert settled["status"] == "match"
    board = leaderboard(desk)

    assert desk.move(snapshot_id, desk.other_upc(snapshot_id)).status_code == 200
    # carol judges it under its new product before the lead changes their mind
    carol = qa.start("carol").json()
    assert qa.answer("carol", carol["session_id"], snapshot_id, False).status_code == 200

    undone = desk.undo(snapshot_id)
    assert undone.status_code == 200, undone.text
    body = undone.json()
    assert body["product"]["upc"] == origin
    for field in ("status", "votes", "settled_by", "resolved_at", "reviewed_by"):
        assert body[field] == settled[field], field
    assert (body["moves"], body["version"]) == (2, 2)
    undo, move = desk.history(snapshot_id)
    assert (undo["kind"], undo["qa_outcome"], move["undone_by"]) == (
        "undo",
        "restored",
        undo["move_id"],
    )
    assert [v["username"] for v in undo["held"]["verdicts"]] == ["carol"]
    assert all(v["restored"] for v in move["held"]["verdicts"])
    # alice's and bob's verdicts count again; carol's keeps its credit (reviewed, not judged)
    rows = desk.sql("SELECT username FROM qa_assignments ORDER BY username")
    assert [r["username"] for r in rows] == ["alice", "bob"]
    after = {e["username"]: e for e in leaderboard(desk)}
    assert [after[e["username"]] == e for e in board] == [True, True]
    assert (after["carol"]["reviewed"], after["carol"]["agreement_rate"]) == (1, None)
    # a second undo has nothing to undo
    again = desk.undo(snapshot_id)
    assert again.status_code == 409 and "undone already" in again.json()["error"]


# -- marks ----------------------------------------------------------------------------------


def test_keep_and_qa_first_are_marks_under_the_same_version_check(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(snapshots=4, products=2, qa_session_size=1)
    ids = sorted(desk.qa.snapshot_ids)
    kept = desk.patch(ids[0], {"reviewed": True, "version": 0})
    assert kept.status_code == 200, kept.text
    assert (kept.json()["reviewed_by"], kept.json()["version"]) == (LEAD, 1)
    assert desk.patch(ids[0], {"reviewed": False, "version": 0}).status_code == 409
    unkept = desk.patch(ids[0], {"reviewed": False}, **{"If-Match": '"1"'})
    assert unkept.status_code == 200 and unkept.json()["reviewed_by"] is None

    # QA first: the last snapshot is handed out before any other, whatever the random order
    last = ids[-1]
    first = desk.patch(last, {"qa_first": True, "version": 0})
    assert first.status_code == 200 and first.json()["qa_first"] is True
    session = desk.qa.start("alice").json()
    assert [s["snapshot_id"] for s in session["snapshots"]] == [last]

    # Only a pending snapshot can go to QA first.
    desk.write("UPDATE snapshots SET status = 'match' WHERE id = :id", {"id": ids[1]})
    settled = desk.patch(ids[1], {"qa_first": True, "version": 0})
    assert settled.status_code == 400 and "only a pending snapshot" in settled.json()["error"]


# -- every status code -----------------------------------------------------------------------


def test_every_refusal_has_its_status_and_the_error_shape(make_desk: Callable[..., Desk]) -> None:
    desk = make_desk(snapshots=2, products=2)
    snapshot_id = sorted(desk.qa.snapshot_ids)[0]
    own, other = desk.upc_of(snapshot_id), desk.other_upc(snapshot_id)
    client = desk.client
    path = f"/api/snapshots/{snapshot_id}"

    def refused(response: Any, status: int, *words: str) -> None:
        assert response.status_code == status, response.text
        assert set(response.json()) <= {"error", "version"}
        for word in words:
            assert word in response.json()["error"], response.json()

    # 428: no version named
    refused(desk.patch(snapshot_id, {"product_upc": other}), 428, "If-Match")
    # 400: bad bodies, headers and requests
    refused(client.patch(path, content=b"", headers=lead()), 400, "empty body")
    refused(client.patch(path, content=b"[1]", headers=lead()), 400)
    refused(client.patch(path, content=b"{", headers=lead()), 400)
    refused(desk.patch(snapshot_id, {"version": 0}), 400, "nothing to change")
    refused(desk.patch(snapshot_id, {"product_upc": other, "version": 0, "colour": 1}), 400)
    refused(desk.patch(snapshot_id, {"product_upc": "12ab", "version": 0}), 400)
    refused(desk.patch(snapshot_id, {"product_upc": other, "version": "0"}), 400)
    refused(desk.patch(snapshot_id, {"product_upc": other, "version": -1}), 400)
    refused(desk.patch(snapshot_id, {"product_upc": other, "version": 0, "reason": ""}), 400)
    refused(desk.patch(snapshot_id, {"reviewed": "yes", "version": 0}), 400)
    refused(
        client.patch(path, content=b'{"version": 0, "version": 1, "reviewed": true}',
                     headers=lead()),
        400, "version",
    )  # fmt: skip
    refused(desk.patch(snapshot_id, {"reviewed": True}, **{"If-Match": 'W/"0"'}), 400, "ETag")
    refused(desk.patch(snapshot_id, {"reviewed": True, "version": 1}, **{"If-Match": '"0"'}), 400,
            "disagree")  # fmt: skip
    refused(client.patch(path, json={"reviewed": True, "version": 0}), 400, "username")
    refused(desk.patch(snapshot_id, {"product_upc": own, "version": 0}), 400, "already")
    refused(desk.patch(2**63, {"reviewed": True, "version": 0}), 400)
    # 404: no such snapshot, no such product
    refused(desk.patch(999_999, {"product_upc": other, "version": 0}), 404, "no snapshot")
    refused(desk.patch(snapshot_id, {"product_upc": "99999999", "version": 0}), 404, "99999999")
    refused(client.get("/api/snapshots/999999/history"), 404)
    refused(client.post("/api/snapshots/999999/undo", json={"version": 0}, headers=lead()), 404)
    # 409: a stale version (the answer says the current one), nothing to undo
    assert desk.move(snapshot_id, other, version=0).status_code == 200
    stale = desk.patch(snapshot_id, {"product_upc": own, "version": 0})
    refused(stale, 409, "version 0", "version 1")
    assert stale.json()["version"] == 1
    never = sorted(desk.qa.snapshot_ids)[1]
    refused(desk.undo(never, version=0), 409, "never moved")
    refused(client.post(f"/api/snapshots/{never}/undo", headers=lead()), 428)
    # 200: the If-Match spelling, and an undo named by If-Match with an empty body
    ok = client.post(f"/api/snapshots/{snapshot_id}/undo", headers={**lead(), "If-Match": '"1"'})
    assert ok.status_code == 200, ok.text
    assert desk.client.get(path).headers["etag"] == '"2"'
    assert desk.history(never) == []


# -- the race -------------------------------------------------------------------------------


def test_two_leads_moving_one_version_get_one_200_and_one_409(
    make_desk: Callable[..., Desk],
) -> None:
    desk = make_desk(snapshots=8, products=3, qa_session_size=4)
    # Some of them held by open QA sessions, so the moves take session locks too.
    desk.qa.start("alice")
    upcs = desk.upcs()
    for snapshot_id in sorted(desk.qa.snapshot_ids):
        own = desk.upc_of(snapshot_id)
        targets = [upc for upc in upcs if upc != own]
        gate = threading.Barrier(2)
        results: dict[str, Any] = {}

        def move(
            name: str, upc: str, snapshot_id: int = snapshot_id,
            gate: threading.Barrier = gate, results: dict[str, Any] = results,
        ) -> None:  # fmt: skip
            gate.wait(timeout=30)
            results[name] = desk.move(snapshot_id, upc, version=0, name=name)

        threads = [
            threading.Thread(target=move, args=(name, upc))
            for name, upc in zip(("lena", "leo"), targets, strict=True)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        statuses = sorted(r.status_code for r in results.values())
        assert statuses == [200, 409], {k: (r.status_code, r.text) for k, r in results.items()}
        winner = next(name for name, r in results.items() if r.status_code == 200)
        [record] = desk.history(snapshot_id)
        assert record["moved_by"] == winner
        assert (
            desk.snapshot(snapshot_id)["product"]["upc"] == results[winner].json()["product"]["upc"]
        )
    rows = desk.sql("SELECT COUNT(*) AS n, SUM(reserved) AS held FROM snapshots")
    assert rows[0]["held"] == 0  # every reservation alice held was released exactly once
    sessions = desk.sql("SELECT status, size, answered FROM qa_sessions")
    assert sessions == [{"status": "completed", "size": 0, "answered": 0}]


def test_a_session_expiring_or_a_vote_meanwhile_is_left_consistent(
    make_desk: Callable[..., Desk], clock: Clock
) -> None:
    desk = make_desk(snapshots=2, products=2, qa_session_size=2, qa_session_ttl=60)
    qa = desk.qa
    first, second = sorted(qa.snapshot_ids)
    alice = qa.start("alice").json()
    assert qa.answer("alice", alice["session_id"], first, True).status_code == 200
    clock.advance(61)
    qa.start("bob")  # sweeps alice's session: `second` released
    bob = qa.client.get("/qa/session", headers=user("bob")).json()
    assert desk.move(second, desk.other_upc(second)).status_code == 200
    # the expired hand-out (alice) and the open one (bob) went with the move
    [record] = desk.history(second)
    assert record["held"]["released"] == 1
    assert qa.answer("bob", bob["session_id"], second, True).status_code == 409
    assert qa.answer("alice", alice["session_id"], second, True).status_code == 409
    assert desk.sql("SELECT reserved FROM snapshots WHERE id = :id", {"id": second}) == [
        {"reserved": 0}
    ]

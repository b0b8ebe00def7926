"""Every catalog and QA query once on MariaDB (the SingleStore stand-in), through the API."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

import msgspec
import pytest

from service.config import Settings
from tests.catalog.conftest import add_snapshot, create_product, image_bytes
from tests.qa.conftest import QA, Clock, user


@pytest.fixture
def qa_settings(settings: Settings, mariadb_url: str) -> Settings:
    return msgspec.structs.replace(settings, database_url=mariadb_url)


def test_catalog_and_qa_tour_on_mariadb(make_qa: Callable[..., QA], clock: Clock) -> None:
    qa = make_qa(snapshots=0, qa_session_size=3, qa_session_ttl=60)
    client = qa.client
    # catalog
    assert create_product(client, upc="12345678", image=image_bytes(fmt="PNG")).status_code == 201
    assert create_product(client, upc="12345678").status_code == 409
    assert create_product(client, upc="87654321").status_code == 201
    ids = [add_snapshot(client, "12345678", image=image_bytes(colour=(i, 0, 0))).json()
           ["snapshot_id"] for i in range(3)]  # fmt: skip
    page = client.get("/api/products", params={"limit": 1}).json()
    assert page["items"][0]["snapshot_count"] == 3 and page["next_cursor"]
    second = client.get("/api/products", params={"limit": 1, "cursor": page["next_cursor"]})
    assert second.json()["items"][0]["upc"] == "87654321"
    assert client.get(f"/api/snapshots/{ids[0]}").json()["status"] == "pending"

    # sessions, verdicts, a split and its third vote
    a, b = qa.start("alice").json(), qa.start("bob").json()
    assert qa.start("alice").json() == {"error": "Session already exists"}
    assert client.get("/qa/session", headers=user("alice")).json()["session_id"] == a["session_id"]
    # both hold all three; split one: only it has a slot left, and carol gets just that one
    assert len(a["snapshots"]) == len(b["snapshots"]) == 3
    first = ids[0]
    assert qa.answer("alice", a["session_id"], first, True).status_code == 200
    assert qa.answer("alice", a["session_id"], first, True).status_code == 409
    assert qa.answer("bob", b["session_id"], first, False).status_code == 200
    carol = qa.start("carol").json()
    assert [s["snapshot_id"] for s in carol["snapshots"]] == [first]
    assert qa.answer("carol", carol["session_id"], first, True).status_code == 200
    snapshot = client.get(f"/api/snapshots/{first}").json()
    assert snapshot["status"] == "match" and snapshot["votes"] == {"match": 2, "mismatch": 1}

    # TTL: alice and bob go idle; their unanswered snapshots come back
    clock.advance(61)
    dave = qa.start("dave")
    assert dave.status_code == 201
    assert client.get("/qa/session", headers=user("alice")).status_code == 404
    rows = qa.sql("SELECT status FROM qa_sessions WHERE username IN ('alice', 'bob')")
    assert {r["status"] for r in rows} == {"expired"}

    board = client.get("/qa/leaderboard", headers=user("x")).json()
    assert {entry["username"] for entry in board} >= {"alice"}
    exported = client.get("/qa/export", headers=user("x")).text
    assert [int(r["snapshot_id"]) for r in csv.DictReader(io.StringIO(exported))] == ids
    pending = client.get("/qa/export?status=pending&format=jsonl", headers=user("x")).text
    assert all(json.loads(line)["status"] == "pending" for line in pending.splitlines())

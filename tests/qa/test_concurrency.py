"""10 QAs in parallel threads work a 1,000-snapshot queue until it is empty, on SQLite and on
MariaDB (standing in for SingleStore: READ COMMITTED, row locks, real interleaving)."""

from __future__ import annotations

import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable

import pytest

from service.config import Settings
from service.qa import voting
from tests.qa.conftest import QA, user

USERS = 10
SNAPSHOTS = 1000
SESSION_SIZE = 25


def verdict(name: str, snapshot_id: int) -> bool:
    """A fixed opinion per (user, snapshot); about one in four says "mismatch", so splits
    (and third votes) are common."""
    return zlib.crc32(f"{name}/{snapshot_id}".encode()) % 4 != 0


def _worker(qa: QA, name: str, seen: list[int], answered: list[int], errors: list[str]) -> None:
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            response = qa.start(name)
            if response.status_code == 400:
                assert response.json() == {"error": "Not enough snapshots to validate"}
                if not qa.sql("SELECT id FROM snapshots WHERE status = 'pending' LIMIT 1"):
                    return
                time.sleep(0.01)  # others hold what is left; their answers may free a slot
                continue
            assert response.status_code == 201, response.text
            session = response.json()
            for item in session["snapshots"]:
                snapshot_id = item["snapshot_id"]
                seen.append(snapshot_id)
                result = qa.answer(name, session["session_id"], snapshot_id,
                                   verdict(name, snapshot_id))  # fmt: skip
                assert result.status_code == 200, result.text
                answered.append(snapshot_id)
        errors.append(f"{name}: queue not empty after 240 s")
    except BaseException as exc:  # reported by the main thread
        errors.append(f"{name}: {exc!r}")


@pytest.fixture(params=["sqlite", "mariadb"])
def qa_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "mariadb":
        import msgspec

        url = request.getfixturevalue("mariadb_url")
        return msgspec.structs.replace(settings, database_url=url)
    return settings


def test_parallel_qas_empty_the_queue(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=SNAPSHOTS, products=20, qa_session_size=SESSION_SIZE)
    names = [f"qa{i}" for i in range(USERS)]
    seen: dict[str, list[int]] = {name: [] for name in names}
    answered: dict[str, list[int]] = {name: [] for name in names}
    errors: list[str] = []
    threads = [
        threading.Thread(target=_worker, args=(qa, name, seen[name], answered[name], errors))
        for name in names
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []

    rows = qa.sql("SELECT id, status, votes_match, votes_mismatch, reserved FROM snapshots")
    assert len(rows) == SNAPSHOTS
    for row in rows:
        matches, mismatches = row["votes_match"], row["votes_mismatch"]
        assert row["status"] == voting.status(matches, mismatches, 3) != "pending", row
        assert matches + mismatches in (2, 3), row
        if matches + mismatches == 3:
            assert min(matches, mismatches) == 1, row  # a third vote only after a split
        assert row["reserved"] == 0, row

    for name in names:  # no user was handed a snapshot twice
        assert len(seen[name]) == len(set(seen[name])), name

    # no vote lost or double-counted: the counts match the 200 answers one for one
    sent = Counter(i for answers in answered.values() for i in answers)
    counted = {row["id"]: row["votes_match"] + row["votes_mismatch"] for row in rows}
    assert sent == Counter(counted)
    stored = qa.sql("SELECT snapshot_id, username, is_match FROM qa_assignments "
                    "WHERE is_match IS NOT NULL")  # fmt: skip
    assert len(stored) == sum(sent.values())
    assert all(bool(r["is_match"]) == verdict(r["username"], r["snapshot_id"]) for r in stored)
    # every session ended completed; nothing is left open
    states = qa.sql("SELECT status, COUNT(*) AS n FROM qa_sessions GROUP BY status")
    assert {r["status"] for r in states} == {"completed"}
    board = qa.client.get("/qa/leaderboard", headers=user("observer")).json()
    assert {entry["username"] for entry in board} == set(names)

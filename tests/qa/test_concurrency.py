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


def _review_in_parallel(
    qa: QA,
) -> tuple[list[str], dict[str, list[int]], dict[str, list[int]], list[str]]:
    """USERS reviewers, one thread each, until the queue is empty: their names, what each was
    given and answered, and any errors."""
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
    return names, seen, answered, errors


def test_parallel_qas_empty_the_queue(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=SNAPSHOTS, products=20, qa_session_size=SESSION_SIZE)
    names, seen, answered, errors = _review_in_parallel(qa)
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


ASSISTED_SNAPSHOTS = 400
HISTORY = 200


def _monitor(qa: QA, stop: threading.Event, over: list[dict]) -> None:
    """Sample the reservation invariant while the QAs work."""
    while not stop.is_set():
        over.extend(qa.sql("SELECT id, reserved, verdicts_needed FROM snapshots "
                           "WHERE reserved > verdicts_needed"))  # fmt: skip
        time.sleep(0.005)


def test_parallel_qas_under_the_assisted_rule(make_qa: Callable[..., QA]) -> None:
    """QA_CONSENSUS=assisted: no snapshot is ever held by more reviewers than the verdicts it
    may still need, so no verdict arrives after its snapshot settled (none is wasted)."""
    from service.clock import utcnow
    from service.qa import consensus
    from service.similarity.embedding.embedders import create_embedder

    qa = make_qa(snapshots=ASSISTED_SNAPSHOTS + HISTORY, products=20,
                 qa_session_size=SESSION_SIZE, qa_consensus="assisted")  # fmt: skip
    model, now = create_embedder("default").model, utcnow()
    history, ids = sorted(qa.snapshot_ids)[:HISTORY], sorted(qa.snapshot_ids)[HISTORY:]
    products = {r["id"]: r["product_id"] for r in qa.sql("SELECT id, product_id FROM snapshots")}
    # A third sure, a third unsure, a third suspects; and a history of sure ones QA confirmed,
    # so that one verdict may settle a sure one from the start (limit 1, the tight case).
    levels = {i: [-1.0, 0.0, 1.0][n % 3] for n, i in enumerate(ids)} | dict.fromkeys(history, -1.0)

    def setup(session):  # type: ignore[no-untyped-def]
        session.execute_many("similarity_insert_suspicion", [
            {"snapshot_id": i, "model": model, "product_id": products[i],
             "suggested_product_id": None, "suspicion": level, "own_share": 0.5,
             "suggested_share": 0.5, "population": len(levels), "now": now}
            for i, level in levels.items()
        ])  # fmt: skip
        for i in history:
            session.execute(
                "qa_resolve_snapshot", {"snapshot_id": i, "status": "match", "now": now}
            )

    qa.engine.write(setup)
    stop, over = threading.Event(), []
    monitor = threading.Thread(target=_monitor, args=(qa, stop, over))
    monitor.start()
    names, seen, answered, errors = _review_in_parallel(qa)
    stop.set()
    monitor.join()
    assert errors == []
    assert over == []

    everything = qa.sql("SELECT id, status, votes_match, votes_mismatch, reserved, "
                        "verdicts_needed, settled_by FROM snapshots")  # fmt: skip
    rows = [row for row in everything if row["id"] in ids]
    assert len(rows) == ASSISTED_SNAPSHOTS
    for row in rows:
        assert row["status"] != "pending" and row["reserved"] == 0, row
        assert row["verdicts_needed"] == 0 and row["settled_by"] in ("assisted", "majority"), row
        assert 1 <= row["votes_match"] + row["votes_mismatch"] <= 3 + consensus.ESCALATION, row
    assert {r["settled_by"] for r in rows} == {"assisted", "majority"}
    for name in names:  # no user was handed a snapshot twice
        assert len(seen[name]) == len(set(seen[name])), name
    sent = Counter(i for answers in answered.values() for i in answers)
    assert sent == Counter({r["id"]: r["votes_match"] + r["votes_mismatch"] for r in rows})
    # every verdict was asked for: a verdict that came in after its snapshot settled would be
    # missing from the posterior stored when it settled
    verdicts: dict[int, list[tuple[bool, float]]] = {}
    for r in qa.sql("SELECT snapshot_id, is_match, reliability FROM qa_assignments "
                    "WHERE is_match IS NOT NULL"):  # fmt: skip
        verdicts.setdefault(r["snapshot_id"], []).append((bool(r["is_match"]), r["reliability"]))
    for row in qa.sql("SELECT id, prior, posterior FROM snapshots WHERE prior IS NOT NULL"):
        replayed = consensus.posterior(row["prior"], verdicts[row["id"]])
        assert replayed == pytest.approx(row["posterior"], rel=1e-9), row
    counted = qa.sql("SELECT COUNT(*) AS n FROM qa_assignments "
                     "WHERE is_match IS NOT NULL AND reliability IS NULL")  # fmt: skip
    assert counted[0]["n"] == 0  # every verdict kept the reliability it was counted with

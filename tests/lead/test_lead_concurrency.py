"""Leads move and undo while QAs review, in parallel threads, on SQLite and on MariaDB (READ
COMMITTED, row locks, real interleaving): afterwards every QA invariant holds (see
tests/lead/invariants.py), so nothing was half-moved and no verdict counts for a product it
was not cast for."""

from __future__ import annotations

import random
import threading
import time
import zlib
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from service.config import Settings
from tests.lead import invariants
from tests.lead.conftest import Desk
from tests.qa.conftest import QA

QAS = 5
LEADS = 2
MOVES_PER_LEAD = 25
SNAPSHOTS = 40
DEADLINE = 300.0  # a stuck run fails here instead of hanging the suite


@pytest.fixture(params=["sqlite", "mariadb"])
def qa_settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    if request.param == "mariadb":
        return msgspec.structs.replace(
            settings, database_url=request.getfixturevalue("mariadb_url")
        )
    return settings


class Record:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.shown: dict[invariants.Key, int] = {}
        self.accepted: dict[invariants.Key, bool] = {}
        self.errors: list[str] = []
        self.leads_done = threading.Event()


def _reviewer(qa: QA, name: str, record: Record, deadline: float) -> None:
    try:
        while time.monotonic() < deadline:
            response = qa.start(name)
            if response.status_code == 400:
                if record.leads_done.is_set():
                    return
                time.sleep(0.01)  # others hold what is left, or the leads will move some back
                continue
            assert response.status_code == 201, response.text
            session = response.json()
            with record.lock:
                for item in session["snapshots"]:
                    key = (item["snapshot_id"], name, session["session_id"])
                    record.shown[key] = item["product_id"]
            for item in session["snapshots"]:
                snapshot_id = item["snapshot_id"]
                verdict = zlib.crc32(f"{name}/{snapshot_id}".encode()) % 3 != 0
                answer = qa.answer(name, session["session_id"], snapshot_id, verdict)
                assert answer.status_code in (200, 409), answer.text  # 409: moved meanwhile
                if answer.status_code == 200:
                    with record.lock:
                        record.accepted[(snapshot_id, name, session["session_id"])] = verdict
        record.errors.append(f"{name}: not finished before the deadline")
    except BaseException as exc:
        record.errors.append(f"{name}: {exc!r}")


def _lead(desk: Desk, name: str, record: Record, seed: int, deadline: float) -> None:
    rng = random.Random(seed)
    upcs = desk.upcs()
    try:
        done = 0
        while done < MOVES_PER_LEAD and time.monotonic() < deadline:
            snapshot_id = rng.choice(desk.qa.snapshot_ids)
            current = desk.snapshot(snapshot_id)
            if rng.random() < 0.25 and current["moves"]:
                response = desk.undo(snapshot_id, version=current["version"], name=name)
                assert response.status_code in (200, 409), response.text
            else:
                target = rng.choice([u for u in upcs if u != current["product"]["upc"]])
                response = desk.move(snapshot_id, target, version=current["version"], name=name)
                assert response.status_code in (200, 409), response.text
            done += response.status_code == 200
    except BaseException as exc:
        record.errors.append(f"{name}: {exc!r}")


def test_moves_undos_and_votes_at_once_keep_every_invariant(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=SNAPSHOTS, products=4, qa_session_size=5)
    desk = Desk(qa)
    record = Record()
    deadline = time.monotonic() + DEADLINE
    reviewers = [
        threading.Thread(target=_reviewer, args=(qa, f"qa{i}", record, deadline))
        for i in range(QAS)
    ]
    leads = [
        threading.Thread(target=_lead, args=(desk, f"lead{i}", record, i, deadline))
        for i in range(LEADS)
    ]
    for thread in reviewers + leads:
        thread.start()
    for thread in leads:
        thread.join()
    record.leads_done.set()
    for thread in reviewers:
        thread.join()
    assert not record.errors, record.errors
    moved = desk.sql("SELECT COUNT(*) AS n FROM snapshot_moves")[0]["n"]
    assert moved >= LEADS * MOVES_PER_LEAD

    def sql(text: str) -> list[dict[str, Any]]:
        return desk.sql(text)

    invariants.check(sql, 3, qa.snapshot_ids, record.shown, record.accepted)
    # Settled or waiting on no one: QA could finish the queue with the leads' changes in.
    open_sessions = desk.sql("SELECT COUNT(*) AS n FROM qa_sessions WHERE status = 'open'")
    assert open_sessions[0]["n"] == 0

"""Expiry and the sweeps take the time they are given (`now`): a test moves time forward
instead of sleeping past a real TTL, and nothing is patched."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from service.clock import as_datetime, utcnow
from service.config import SQL_DIR
from service.db import Database, create_engine
from service.qa import sessions
from tests.qa.conftest import QA


def _rules(qa: QA) -> sessions.Rules:
    return sessions.Rules.from_settings(qa.client.app.state.settings)


def _database(qa: QA) -> Database:
    """A Database of its own on the app's database (closed by the test)."""
    return Database(create_engine(qa.client.app.state.settings.database_url, SQL_DIR), threads=1)


def test_a_sweep_expires_what_is_idle_at_the_time_it_is_given(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=2, products=1, qa_session_size=2, qa_session_ttl=60)
    session = qa.start("alice").json()
    rules = _rules(qa)
    db = _database(qa)
    try:
        soon = utcnow() + timedelta(seconds=30)
        assert asyncio.run(sessions.sweep(db, rules, now=soon)) == 0
        later = utcnow() + timedelta(seconds=61)
        assert asyncio.run(sessions.sweep(db, rules, now=later)) == 1
        [row] = asyncio.run(db.read(lambda s: s.raw(
            "SELECT status, closed_at FROM qa_sessions WHERE id = :id",
            {"id": session["session_id"]},
        )))  # fmt: skip
        assert row["status"] == "expired" and row["closed_at"] is not None
        reserved = asyncio.run(db.read(lambda s: s.raw("SELECT SUM(reserved) AS n FROM snapshots")))
        assert reserved[0]["n"] == 0
    finally:
        db.close()


def test_the_majority_sweep_settles_at_the_time_it_is_given(make_qa: Callable[..., QA]) -> None:
    qa = make_qa(snapshots=2, products=1, qa_session_size=2)
    first, _ = sorted(qa.snapshot_ids)
    votes = "UPDATE snapshots SET votes_match = 0, votes_mismatch = 2 WHERE id = :id"
    qa.engine.write(lambda session: session.raw(votes, {"id": first}))
    rules = _rules(qa)
    db = _database(qa)
    try:
        when = utcnow() - timedelta(days=1)
        assert asyncio.run(sessions.settle_decided(db, rules, now=when)) == 1
        [row] = asyncio.run(db.read(lambda s: s.raw(
            "SELECT status, resolved_at FROM snapshots WHERE id = :id", {"id": first}
        )))  # fmt: skip
        assert row["status"] == "mismatch"
        assert as_datetime(row["resolved_at"]) == when
    finally:
        db.close()

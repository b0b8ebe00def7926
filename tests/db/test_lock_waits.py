"""Lock waits on the SingleStore engine (against MariaDB): a short session timeout is set on
every connection, and a statement that waits past it is a LockConflict, the error callers
retry like a deadlock (SingleStore has no deadlock detector: a lock cycle ends as 1205)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from service.db import LockConflict, create_engine, migrate
from service.db import singlestore as singlestore_engine

pytestmark = pytest.mark.mariadb


def test_each_connection_gets_the_configured_lock_wait_timeout(
    mariadb_url: str, test_sql: Path
) -> None:
    engine = create_engine(mariadb_url, test_sql, pool_size=1, lock_wait_timeout=3)
    try:
        rows = engine.read(lambda s: s.raw("SELECT @@SESSION.innodb_lock_wait_timeout AS t"))
    finally:
        engine.close()
    assert rows == [{"t": 3}]
    assert engine.lock_wait_per_session is True  # type: ignore[attr-defined]


def test_a_refused_session_setting_leaves_the_global_value_and_is_logged_once(
    mariadb_url: str, test_sql: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Were lock_wait_timeout global-only on a cluster, SET SESSION would be refused: MariaDB
    refuses it for a global-only variable (errno 1229), which stands in for that here."""
    refused = "SET SESSION innodb_buffer_pool_size = %(seconds)s"
    monkeypatch.setitem(singlestore_engine._SET_LOCK_WAIT, False, refused)
    engine = create_engine(mariadb_url, test_sql, pool_size=2, lock_wait_timeout=3)
    sql = "SELECT @@SESSION.innodb_lock_wait_timeout AS s, @@GLOBAL.innodb_lock_wait_timeout AS g"
    try:
        with capture_logs() as logs:  # two connections, one inside the other
            rows = engine.read(lambda outer: engine.read(lambda inner: inner.raw(sql)))
            engine.read(lambda s: s.raw(sql))
    finally:
        engine.close()
    assert rows[0]["s"] == rows[0]["g"] != 3  # the server's global value, and work goes on
    assert engine.lock_wait_per_session is False  # type: ignore[attr-defined]
    warnings = [e for e in logs if "refused the session lock wait timeout" in e["event"]]
    assert len(warnings) == 1 and "1229" in warnings[0]["error"]


def test_a_statement_waiting_past_the_timeout_is_a_lock_conflict(
    mariadb_url: str, test_sql: Path
) -> None:
    engine = create_engine(mariadb_url, test_sql, pool_size=2, lock_wait_timeout=1)
    try:
        migrate(engine, test_sql)
        engine.write(lambda s: s.execute("insert_counter", {"name": "c", "value": 0}))
        holding, release = threading.Event(), threading.Event()

        def hold_the_row_lock() -> None:
            def body(session) -> None:  # type: ignore[no-untyped-def]
                session.execute("set_counter", {"name": "c", "value": 1})
                holding.set()
                release.wait(10)

            engine.write(body)

        holder = threading.Thread(target=hold_the_row_lock)
        holder.start()
        assert holding.wait(5)
        started = time.monotonic()
        try:
            with pytest.raises(LockConflict, match="1205|[Ll]ock wait timeout"):
                engine.write(lambda s: s.execute("set_counter", {"name": "c", "value": 2}))
            waited = time.monotonic() - started
        finally:
            release.set()
            holder.join()
        # The one-second session timeout, not MariaDB's 50 s default.
        assert waited < 10
        # Only the statement was rolled back; the row is intact and writable again.
        engine.write(lambda s: s.execute("set_counter", {"name": "c", "value": 3}))
        assert engine.read(lambda s: s.fetch_value("counter_value", {"name": "c"})) == 3
    finally:
        engine.close()

"""Lock waits on the SingleStore engine (against MariaDB): a short session timeout is set on
every connection, and a statement that waits past it is a LockConflict, the error callers
retry like a deadlock (SingleStore has no deadlock detector: a lock cycle ends as 1205)."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from service.db import LockConflict, create_engine, migrate

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

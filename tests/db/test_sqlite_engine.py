"""The embedded engine: WAL, foreign keys, writers that queue, errors and types."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from service.db import (
    DatabaseError,
    DatabaseUnavailable,
    Engine,
    IntegrityError,
    Session,
    create_engine,
)


def test_wal_and_busy_timeout(sqlite_engine: Engine) -> None:
    assert sqlite_engine.read(lambda s: s.raw("PRAGMA journal_mode")) == [{"journal_mode": "wal"}]
    assert sqlite_engine.read(lambda s: s.raw("PRAGMA busy_timeout"))[0]["timeout"] > 0


def test_foreign_keys_on_for_readers_and_the_writer(sqlite_engine: Engine) -> None:
    assert sqlite_engine.read(lambda s: s.raw("PRAGMA foreign_keys")) == [{"foreign_keys": 1}]
    assert sqlite_engine.write(lambda s: s.raw("PRAGMA foreign_keys")) == [{"foreign_keys": 1}]
    with pytest.raises(IntegrityError, match="FOREIGN KEY"):
        sqlite_engine.write(lambda s: s.execute("insert_tag", {"item_id": 999, "tag": "orphan"}))


def increment(session: Session) -> None:
    # Read-modify-write: only correct if no other write runs between the read and the update.
    value = session.fetch_value("counter_value", {"name": "hits"})
    session.execute("set_counter", {"name": "hits", "value": value + 1})


def test_concurrent_writers_queue_and_all_succeed(
    sqlite_url: str, sqlite_engine: Engine, test_sql: Path
) -> None:
    sqlite_engine.write(lambda s: s.execute("insert_counter", {"name": "hits", "value": 0}))
    # A second engine on the same file stands in for a second process: its writes wait on
    # SQLite's lock (busy timeout), not on our in-process lock.
    other = create_engine(sqlite_url, test_sql)
    errors: list[BaseException] = []

    def writer(engine: Engine) -> None:
        try:
            for _ in range(20):
                engine.write(increment)
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(e,)) for e in [sqlite_engine, other] * 4]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    other.close()
    assert errors == []
    assert sqlite_engine.read(lambda s: s.fetch_value("counter_value", {"name": "hits"})) == 160


def test_a_failing_statement_rolls_back_the_whole_transaction(sqlite_engine: Engine) -> None:
    def work(s: Session) -> None:
        s.execute(
            "insert_item", {"name": "a", "qty": 1, "created_at": None, "day": None, "vec": None}
        )
        s.raw("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(DatabaseError, match="no such table"):
        sqlite_engine.write(work)
    assert sqlite_engine.read(lambda s: s.fetch_value("item_count")) == 0


def test_readers_refuse_writes(sqlite_engine: Engine) -> None:
    values = {"name": "sneaky", "qty": 1, "created_at": None, "day": None, "vec": None}
    with pytest.raises(DatabaseError, match="readonly"):
        sqlite_engine.read(lambda s: s.execute("insert_item", values))
    assert sqlite_engine.read(lambda s: s.fetch_value("item_count")) == 0


def test_a_read_that_leaves_a_statement_unfinished_ends_cleanly(sqlite_engine: Engine) -> None:
    # An EXPLAIN of an INSERT left half-read used to make COMMIT fail and leave the thread's
    # reader stuck inside a transaction.
    sqlite_engine.read(lambda s: s.connection.execute("EXPLAIN DELETE FROM items").fetchone())
    assert sqlite_engine.read(lambda s: s.fetch_value("item_count")) == 0


def test_aware_datetimes_are_stored_as_naive_utc(sqlite_engine: Engine) -> None:
    aware = datetime(2024, 5, 6, 14, 30, tzinfo=timezone(timedelta(hours=2)))
    values = {"name": "aware", "qty": 1, "created_at": aware, "day": None, "vec": None}
    sqlite_engine.write(lambda s: s.execute("insert_item", values))
    row = sqlite_engine.read(lambda s: s.fetch_one("item_by_name", {"name": "aware"}))
    assert row is not None
    assert row["created_at"] == aware.astimezone(UTC).replace(tzinfo=None)
    # Stored as text that sorts in time order, in MySQL's DATETIME(6) format.
    stored = sqlite_engine.read(lambda s: s.raw("SELECT CAST(created_at AS TEXT) AS t FROM items"))
    assert stored == [{"t": "2024-05-06 12:30:00.000000"}]


def test_vector_functions_in_a_named_query(sqlite_engine: Engine) -> None:
    packed = sqlite_engine.read(lambda s: s.raw("SELECT JSON_ARRAY_PACK('[1, 2, 3, 4]') AS v"))
    values = {"name": "v", "qty": 1, "created_at": None, "day": None, "vec": packed[0]["v"]}
    sqlite_engine.write(lambda s: s.execute("insert_item", values))
    score = sqlite_engine.read(
        lambda s: s.fetch_value("packed_dot", {"name": "v", "query": "[1, 0, 0, 1]"})
    )
    assert score == 5.0


def test_unopenable_file_is_unavailable(tmp_path: Path, test_sql: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(DatabaseUnavailable, match="unable to open"):
        create_engine(f"sqlite:///{tmp_path / 'dir.db'}", test_sql)

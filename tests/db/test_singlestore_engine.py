"""The SingleStore engine against a real MariaDB: pool bound, reconnects, errors."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
import singlestoredb

from service.db import (
    DatabaseError,
    DatabaseUnavailable,
    Engine,
    IntegrityError,
    LockConflict,
    create_engine,
    migrate,
)
from service.db.singlestore import SingleStoreEngine, _translate
from tests.mariadb import MariaDBServer, free_port

pytestmark = pytest.mark.mariadb


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (singlestoredb.IntegrityError(1062, "Duplicate entry"), IntegrityError),
        (singlestoredb.OperationalError(1364, "Field 'n' doesn't have a default"), IntegrityError),
        (singlestoredb.OperationalError(4025, "CONSTRAINT failed"), IntegrityError),
        (singlestoredb.OperationalError(2013, "Lost connection"), DatabaseUnavailable),
        (singlestoredb.OperationalError(1927, "Connection was killed"), DatabaseUnavailable),
        (singlestoredb.OperationalError(4031, "Disconnected: inactivity"), DatabaseUnavailable),
        (singlestoredb.InterfaceError(0, "The connection has been closed"), DatabaseUnavailable),
        (ConnectionResetError(104, "reset by peer"), DatabaseUnavailable),
        (singlestoredb.ProgrammingError(1146, "Table doesn't exist"), DatabaseError),
        (singlestoredb.OperationalError(1213, "Deadlock found"), LockConflict),
        (singlestoredb.OperationalError(1205, "Lock wait timeout exceeded"), LockConflict),
    ],
)
def test_driver_errors_become_ours(error: Exception, expected: type) -> None:
    assert type(_translate(error)) is expected


def database_of(url: str) -> str:
    return url.rsplit("/", 1)[1]


def connections_to(server: MariaDBServer, database: str) -> int:
    rows = server.execute(
        f"SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = '{database}'"
    )
    return rows[0][0]


def test_knows_it_is_not_talking_to_singlestore(mariadb_engine: Engine) -> None:
    mariadb_engine.ping()
    assert isinstance(mariadb_engine, SingleStoreEngine)
    assert mariadb_engine.is_singlestore is False


def test_pool_never_opens_more_than_pool_size(
    mariadb_server: MariaDBServer, mariadb_url: str, test_sql: Path
) -> None:
    engine = create_engine(mariadb_url, test_sql, pool_size=2)
    database = database_of(mariadb_url)
    peak = 0
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(3):
                assert engine.read(lambda s: s.fetch_value("sleep", {"seconds": 0.05})) == 0
        except BaseException as exc:  # collected: the assertion below names it
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(6)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, connections_to(mariadb_server, database))
    for thread in threads:
        thread.join()
    assert errors == []
    assert peak == 2  # both slots were used, and never a third connection
    engine.close()
    assert connections_to(mariadb_server, database) == 0


def test_reconnects_after_the_connection_is_killed(
    mariadb_server: MariaDBServer, mariadb_url: str, test_sql: Path
) -> None:
    engine = create_engine(mariadb_url, test_sql, pool_size=1)
    migrate(engine, test_sql)
    first = engine.read(lambda s: s.fetch_value("connection_id"))
    mariadb_server.execute(f"KILL CONNECTION {int(first)}")
    # The pooled connection is dead: a read retries on a fresh one...
    second = engine.read(lambda s: s.fetch_value("connection_id"))
    assert second != first
    # ...and so does a transaction, found dead at START TRANSACTION, before its work ran.
    mariadb_server.execute(f"KILL CONNECTION {int(second)}")
    calls = []
    engine.write(lambda s: calls.append(s.execute("insert_counter", {"name": "n", "value": 1})))
    assert len(calls) == 1
    assert engine.read(lambda s: s.fetch_value("counter_value", {"name": "n"})) == 1
    engine.close()


def test_connection_lost_inside_a_transaction_is_unavailable(
    mariadb_server: MariaDBServer, mariadb_engine: Engine
) -> None:
    def work(s) -> None:
        s.execute("insert_counter", {"name": "lost", "value": 1})
        mariadb_server.execute(f"KILL CONNECTION {int(s.fetch_value('connection_id'))}")
        s.execute("insert_counter", {"name": "lost2", "value": 1})

    with pytest.raises(DatabaseUnavailable):
        mariadb_engine.write(work)
    # Not retried (the work could have side effects), and rolled back by the server.
    assert mariadb_engine.read(lambda s: s.fetch_value("counter_value", {"name": "lost"})) is None


def test_unreachable_server_is_unavailable(test_sql: Path) -> None:
    url = f"singlestoredb://user:pw@127.0.0.1:{free_port()}/nothing"
    engine = create_engine(url, test_sql)
    with pytest.raises(DatabaseUnavailable, match="cannot connect"):
        engine.ping()
    with pytest.raises(DatabaseUnavailable):
        engine.write(lambda s: s.execute("insert_counter", {"name": "x", "value": 1}))
    engine.close()


def test_check_constraint_is_integrity_error(mariadb_engine: Engine) -> None:
    mariadb_engine.read(lambda s: s.raw("CREATE TABLE checked (n INT NOT NULL, CHECK (n > 0))"))
    with pytest.raises(IntegrityError):
        mariadb_engine.write(lambda s: s.raw("INSERT INTO checked (n) VALUES (-1)"))
    with pytest.raises(IntegrityError):
        mariadb_engine.write(lambda s: s.raw("INSERT INTO checked () VALUES ()"))


def test_closed_engine_refuses_work(mariadb_engine: Engine) -> None:
    mariadb_engine.close()
    with pytest.raises(DatabaseUnavailable, match="closed"):
        mariadb_engine.ping()


def test_ddl_runs_in_autocommit_and_never_inside_a_transaction(mariadb_engine: Engine) -> None:
    with pytest.raises(DatabaseError, match="DDL inside a transaction"):
        mariadb_engine.write(lambda s: s.raw("CREATE TABLE in_tx (n INT)"))

    def two_statements(session) -> None:  # type: ignore[no-untyped-def]
        session.raw("CREATE TABLE own_commit (n INT)")
        session.raw("INSERT INTO own_commit VALUES (1)")
        session.raw("INSERT INTO no_such_table VALUES (1)")

    with pytest.raises(DatabaseError, match="no_such_table"):
        mariadb_engine.autocommit(two_statements)
    # each statement committed on its own: the table and its row stay after the failure
    rows = mariadb_engine.read(lambda s: s.raw("SELECT n FROM own_commit"))
    assert rows == [{"n": 1}]


def test_the_sql_shell_runs_ddl_in_autocommit(mariadb_engine: Engine) -> None:
    from service.sqlshell import run_statement

    assert run_statement(mariadb_engine, "CREATE TABLE from_the_shell (n INT)") == "OK"
    assert run_statement(mariadb_engine, "INSERT INTO from_the_shell VALUES (1)") == "OK"
    assert "1" in run_statement(mariadb_engine, "SELECT n FROM from_the_shell")

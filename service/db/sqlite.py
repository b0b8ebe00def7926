"""The embedded engine: stdlib sqlite3 in WAL mode.

Readers get one connection per thread; all writes go through one writer connection under a
lock with `BEGIN IMMEDIATE`, so concurrent writers queue instead of failing with "locked".
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TypeVar

from . import sqlite_functions
from .engine import Engine
from .errors import DatabaseError, DatabaseReadOnly, DatabaseUnavailable, IntegrityError
from .queries import Queries
from .session import Session

T = TypeVar("T")


def _adapt_datetime(value: datetime) -> str:
    # Stored as naive UTC text in MySQL's format, so text order is time order.
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(sep=" ", timespec="microseconds")


def _convert_datetime(raw: bytes) -> datetime:
    return datetime.fromisoformat(raw.decode())


sqlite3.register_adapter(datetime, _adapt_datetime)
sqlite3.register_adapter(date, lambda value: value.isoformat())
sqlite3.register_converter("DATETIME", _convert_datetime)
sqlite3.register_converter("TIMESTAMP", _convert_datetime)
sqlite3.register_converter("DATE", lambda raw: date.fromisoformat(raw.decode()[:10]))


def _translate(exc: BaseException) -> DatabaseError:
    if isinstance(exc, sqlite3.IntegrityError):
        return IntegrityError(str(exc))
    # SQLITE_READONLY and its variants: a read-only file, directory or mount, query_only.
    if getattr(exc, "sqlite_errorname", "").startswith("SQLITE_READONLY"):
        return DatabaseReadOnly(str(exc))
    # Can't open the file, or another process held the write lock past the busy timeout (an
    # open `sql` shell transaction, say): both pass, so "retry later" (503), not a bug (500).
    if isinstance(exc, sqlite3.OperationalError) and (
        "unable to open" in str(exc) or "database is locked" in str(exc)
    ):
        return DatabaseUnavailable(str(exc))
    return DatabaseError(str(exc))


class SQLiteEngine(Engine):
    dialect = "sqlite"

    def __init__(self, path: str | Path, queries: Queries, busy_timeout_ms: int = 30_000) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.queries = queries
        self.busy_timeout_ms = busy_timeout_ms
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._all_lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._writer = self._connect(pragmas=("journal_mode=WAL",))

    def _connect(self, pragmas: tuple[str, ...] = ()) -> sqlite3.Connection:
        try:
            connection = sqlite3.connect(
                self.path,
                isolation_level=None,  # we issue BEGIN/COMMIT ourselves
                check_same_thread=False,
                detect_types=sqlite3.PARSE_DECLTYPES,
                timeout=self.busy_timeout_ms / 1000,
            )
            for pragma in (
                f"busy_timeout={int(self.busy_timeout_ms)}",
                "foreign_keys=ON",
                "synchronous=NORMAL",
                *pragmas,
            ):
                connection.execute(f"PRAGMA {pragma}")
        except sqlite3.Error as exc:
            raise _translate(exc) from exc
        sqlite_functions.register(connection)
        with self._all_lock:
            self._all.append(connection)
        return connection

    def _reader(self) -> sqlite3.Connection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            # Writes belong in write(), under the lock; a reader refuses them outright.
            connection = self._local.connection = self._connect(pragmas=("query_only=ON",))
        return connection

    def _session(self, connection: sqlite3.Connection) -> Session:
        return Session(connection, self.queries, self.dialect, (sqlite3.Error,), _translate)

    def read(self, fn: Callable[[Session], T]) -> T:
        connection = self._reader()
        try:
            connection.execute("BEGIN")  # one snapshot for every statement in fn
            try:
                return fn(self._session(connection))
            finally:
                # Nothing to commit; unlike COMMIT, ROLLBACK also ends the transaction when fn
                # left a statement unfinished, so the connection is never left inside one.
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
        except sqlite3.Error as exc:
            raise _translate(exc) from exc

    def write(self, fn: Callable[[Session], T]) -> T:
        with self._write_lock:
            connection = self._writer
            try:
                connection.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise _translate(exc) from exc
            try:
                result = fn(self._session(connection))
                connection.execute("COMMIT")
                return result
            except BaseException as exc:
                if connection.in_transaction:
                    connection.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise _translate(exc) from exc
                raise

    def ping(self) -> None:
        try:
            self._reader().execute("SELECT 1").fetchone()
        except sqlite3.Error as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    def close(self) -> None:
        with self._all_lock:
            for connection in self._all:
                connection.close()
            self._all.clear()

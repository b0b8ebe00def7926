"""The production engine: SingleStore through the `singlestoredb` client.

The client has no pool and no async API, so this keeps a bounded pool of connections, each
used by one worker thread at a time. A connection that drops is discarded and replaced; a
read is retried once on a fresh connection, and so is a transaction whose pooled connection
was found dead at START TRANSACTION. A transaction that loses its connection later raises
DatabaseUnavailable (the server rolls it back); one lost during COMMIT may or may not have
committed, as with any client.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import singlestoredb
import structlog

from .engine import Engine
from .errors import (
    DatabaseError,
    DatabaseReadOnly,
    DatabaseUnavailable,
    IntegrityError,
    LockConflict,
)
from .queries import Queries
from .session import Session

T = TypeVar("T")
log = structlog.get_logger(__name__)

# Error codes that mean the connection itself is gone: the client's own (2xxx), the server
# shutting down (1053), MariaDB's "connection was killed" (1927), MySQL's idle timeout (4031).
_CONNECTION_LOST = {1053, 1927, 2002, 2003, 2006, 2013, 2055, 4031}
# Constraint failures the client reports as something other than IntegrityError: a NOT NULL
# column without a value (1364) and CHECK constraints (MySQL 3819, MariaDB 4025).
_CONSTRAINT_FAILED = {1364, 3819, 4025}
# Lost lock conflicts: a lock wait timeout (1205) and a deadlock victim (1213).
_LOCK_CONFLICT = {1205, 1213}
# Writes refused: a server running read-only (1290), a database or server in read-only mode
# (1836), a read-only transaction (1792), a read-only table (1036), a user without write
# privileges (1142).
_READ_ONLY = {1036, 1142, 1290, 1792, 1836}
_SET_LOCK_WAIT = {
    True: "SET SESSION lock_wait_timeout = %(seconds)s",
    False: "SET SESSION innodb_lock_wait_timeout = %(seconds)s",
}


def _error_code(exc: BaseException) -> int | None:
    code = getattr(exc, "errno", None)
    if code is None and exc.args and isinstance(exc.args[0], int):
        code = exc.args[0]
    return code


def _is_connection_error(exc: BaseException) -> bool:
    if isinstance(exc, singlestoredb.InterfaceError | ConnectionError | OSError):
        return True
    return isinstance(exc, singlestoredb.OperationalError) and (
        _error_code(exc) in _CONNECTION_LOST or _error_code(exc) is None
    )


def _translate(exc: BaseException) -> DatabaseError:
    if isinstance(exc, singlestoredb.IntegrityError) or _error_code(exc) in _CONSTRAINT_FAILED:
        return IntegrityError(str(exc))
    if _error_code(exc) in _LOCK_CONFLICT:
        return LockConflict(str(exc))
    if _error_code(exc) in _READ_ONLY:
        return DatabaseReadOnly(str(exc))
    if _is_connection_error(exc):
        return DatabaseUnavailable(str(exc))
    return DatabaseError(str(exc))


class _Connection:
    """A driver connection and what we learned about its server."""

    def __init__(self, raw: Any, is_singlestore: bool) -> None:
        self.raw = raw
        self.is_singlestore = is_singlestore


class _Stale(Exception):
    """The connection was dead before any of the caller's work ran on it: safe to retry."""

    def __init__(self, unavailable: DatabaseUnavailable) -> None:
        super().__init__(str(unavailable))
        self.unavailable = unavailable


class SingleStoreEngine(Engine):
    dialect = "singlestore"

    def __init__(
        self,
        url: str,
        queries: Queries,
        pool_size: int = 8,
        connect_timeout: int = 5,
        acquire_timeout: float = 30.0,
        lock_wait_timeout: int = 5,
    ) -> None:
        parts = urlsplit(url)
        # The client knows the `singlestoredb://` scheme; `mysql://` is accepted as an alias.
        self.url = urlunsplit(parts._replace(scheme="singlestoredb"))
        self.queries = queries
        self.pool_size = pool_size
        self.connect_timeout = connect_timeout
        self.acquire_timeout = acquire_timeout
        self.lock_wait_timeout = lock_wait_timeout
        self._idle: queue.LifoQueue[_Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)
        self._closed = False
        self.is_singlestore: bool | None = None
        # Whether the server took the session lock wait timeout (None: no connection yet);
        # when it refuses it, its global value applies and that is logged once.
        self.lock_wait_per_session: bool | None = None
        self._lock_wait_logged = threading.Lock()

    # -- pool -------------------------------------------------------------------------------
    def _open(self) -> _Connection:
        try:
            raw = singlestoredb.connect(
                self.url,
                autocommit=True,
                results_type="tuples",
                connect_timeout=self.connect_timeout,
                # 4-byte UTF-8 (emoji) on the wire; the tables declare utf8mb4 too.
                charset="utf8mb4",
                local_infile=False,
                # Named queries are rendered with `%%` for a literal `%`; interpolate them
                # even when they take no parameters.
                interpolate_query_with_empty_args=True,
                # VECTOR columns come back as their little-endian float32 bytes, as BLOBs do
                # on MariaDB and SQLite, rather than as numpy arrays.
                enable_extended_data_types=False,
                vector_data_format="binary",
            )
        except Exception as exc:  # the driver raises several types for "cannot connect"
            raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
        is_singlestore = self._detect_singlestore(raw)
        self.is_singlestore = is_singlestore
        try:
            self._set_lock_wait_timeout(raw, is_singlestore)
        except singlestoredb.Error as exc:
            self._discard(_Connection(raw, is_singlestore))
            raise DatabaseUnavailable(f"cannot set up the connection: {exc}") from exc
        return _Connection(raw, is_singlestore)

    def _set_lock_wait_timeout(self, raw: Any, is_singlestore: bool) -> None:
        """A short row-lock wait. SingleStore has no deadlock detector: a lock cycle waits
        `lock_wait_timeout` (60 s by default) and ends in errno 1205, which callers retry like
        a deadlock. MariaDB's row-lock wait is `innodb_lock_wait_timeout` (its
        `lock_wait_timeout` is for metadata locks), so the test stand-in behaves alike.

        Should the server refuse the session setting (a variable it only takes globally, as
        its docs advise for values that must reach the leaves), the connection goes on with
        the global value (docker/singlestore-init.sql sets it) and that is logged once."""
        try:
            raw.cursor().execute(
                _SET_LOCK_WAIT[is_singlestore], {"seconds": int(self.lock_wait_timeout)}
            )
        except singlestoredb.Error as exc:
            if _is_connection_error(exc):
                raise
            with self._lock_wait_logged:
                first = self.lock_wait_per_session is not False
                self.lock_wait_per_session = False
            if first:
                log.warning(
                    "the server refused the session lock wait timeout; its global value applies",
                    wanted_seconds=int(self.lock_wait_timeout),
                    error=str(exc),
                )
            return
        self.lock_wait_per_session = True

    @staticmethod
    def _detect_singlestore(raw: Any) -> bool:
        cursor = raw.cursor()
        try:
            cursor.execute("SELECT @@memsql_version")
            cursor.fetchall()
            return True
        except singlestoredb.Error:
            return False

    def _acquire(self) -> _Connection:
        if self._closed:
            raise DatabaseUnavailable("the database engine is closed")
        if not self._slots.acquire(timeout=self.acquire_timeout):
            raise DatabaseUnavailable(
                f"no free database connection after {self.acquire_timeout:g}s "
                f"(pool size {self.pool_size})"
            )
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            try:
                return self._open()
            except BaseException:
                self._slots.release()
                raise

    def _release(self, connection: _Connection, broken: bool) -> None:
        if broken or self._closed:
            self._discard(connection)
        else:
            self._idle.put(connection)
        self._slots.release()

    @staticmethod
    def _discard(connection: _Connection) -> None:
        with contextlib.suppress(Exception):  # it is broken already; nothing to save
            connection.raw.close()

    # -- work ---------------------------------------------------------------------------------
    def _session(self, connection: _Connection) -> Session:
        return Session(
            connection.raw,
            self.queries,
            self.dialect,
            (singlestoredb.Error, OSError),
            _translate,
            is_singlestore=connection.is_singlestore,
        )

    def _run(self, fn: Callable[[Session], T], transactional: bool, retry: bool = True) -> T:
        """Run `fn` on a pooled connection; if that connection turns out dead, retry once on a
        fresh one. Reads are retried whenever the connection drops (they change nothing); a
        transaction only when the drop came before `fn` ran, so `fn` never runs twice; with
        `retry` off (autocommit DDL), never."""
        for attempt in (1, 2):
            connection = self._acquire()
            broken = False
            try:
                if transactional:
                    return self._transaction(self._session(connection), fn)
                return fn(self._session(connection))
            except _Stale as stale:
                broken = True
                if attempt == 2:
                    raise stale.unavailable from stale.unavailable.__cause__
            except DatabaseReadOnly:  # the server answered: the connection is fine
                raise
            except DatabaseUnavailable:
                broken = True
                if transactional or not retry or attempt == 2:
                    raise
            finally:
                self._release(connection, broken)
        raise AssertionError("unreachable")

    @staticmethod
    def _transaction(session: Session, fn: Callable[[Session], T]) -> T:
        try:
            session.raw("START TRANSACTION")
        except DatabaseUnavailable as exc:
            raise _Stale(exc) from exc
        session.in_transaction = True
        try:
            result = fn(session)
        except BaseException:
            with contextlib.suppress(DatabaseError):  # a dead connection: rolled back anyway
                session.raw("ROLLBACK")
            raise
        session.raw("COMMIT")
        return result

    def read(self, fn: Callable[[Session], T]) -> T:
        return self._run(fn, transactional=False)

    def write(self, fn: Callable[[Session], T]) -> T:
        return self._run(fn, transactional=True)

    def autocommit(self, fn: Callable[[Session], T]) -> T:
        """No START TRANSACTION: the connection is in autocommit mode, so each statement of
        `fn` (DDL above all) commits on its own. Not retried: a statement may have run."""
        return self._run(fn, transactional=False, retry=False)

    def ping(self) -> None:
        self.read(lambda session: session.raw("SELECT 1"))

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._discard(self._idle.get_nowait())
            except queue.Empty:
                break

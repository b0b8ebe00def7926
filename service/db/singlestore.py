"""The production engine: SingleStore through the `singlestoredb` client.

The client has no pool and no async API, so this keeps a bounded pool of connections, each
used by one worker thread at a time. A connection that drops is discarded and replaced; a
read is retried once on a fresh connection, and so is a transaction that failed before its
COMMIT was sent (the server rolled it back when the connection died).
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import singlestoredb

from .engine import Engine
from .errors import DatabaseError, DatabaseUnavailable, IntegrityError
from .queries import Queries
from .session import Session

T = TypeVar("T")

# MySQL client error codes that mean the connection itself is gone.
_CONNECTION_LOST = {2002, 2003, 2006, 2013, 2055}


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
    if isinstance(exc, singlestoredb.IntegrityError):
        return IntegrityError(str(exc))
    if _is_connection_error(exc):
        return DatabaseUnavailable(str(exc))
    return DatabaseError(str(exc))


class _Connection:
    """A driver connection and what we learned about its server."""

    def __init__(self, raw: Any, is_singlestore: bool) -> None:
        self.raw = raw
        self.is_singlestore = is_singlestore
        self.last_used = time.monotonic()


class SingleStoreEngine(Engine):
    dialect = "singlestore"

    def __init__(
        self, url: str, queries: Queries, pool_size: int = 8, connect_timeout: int = 5
    ) -> None:
        parts = urlsplit(url)
        # The client knows the `singlestoredb://` scheme; `mysql://` is accepted as an alias.
        self.url = urlunsplit(parts._replace(scheme="singlestoredb"))
        self.queries = queries
        self.connect_timeout = connect_timeout
        self._idle: queue.LifoQueue[_Connection] = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(pool_size)
        self._closed = False
        self.is_singlestore: bool | None = None

    # -- pool -------------------------------------------------------------------------------
    def _open(self) -> _Connection:
        try:
            raw = singlestoredb.connect(
                self.url,
                autocommit=True,
                results_type="tuples",
                connect_timeout=self.connect_timeout,
                local_infile=False,
            )
        except Exception as exc:  # the driver raises several types for "cannot connect"
            raise DatabaseUnavailable(f"cannot connect to the database: {exc}") from exc
        is_singlestore = self._detect_singlestore(raw)
        self.is_singlestore = is_singlestore
        return _Connection(raw, is_singlestore)

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
        self._slots.acquire()
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            try:
                return self._open()
            except BaseException:
                self._slots.release()
                raise

    def _release(self, connection: _Connection | None) -> None:
        if connection is not None and not self._closed:
            connection.last_used = time.monotonic()
            self._idle.put(connection)
        elif connection is not None:
            self._discard(connection)
        self._slots.release()

    @staticmethod
    def _discard(connection: _Connection) -> None:
        try:
            connection.raw.close()
        except Exception:  # noqa: S110 - the connection is already broken; nothing to save
            pass

    # -- work ---------------------------------------------------------------------------------
    def _run(self, fn: Callable[[Session], T], transactional: bool) -> T:
        for attempt in (1, 2):
            connection = self._acquire()
            keep: _Connection | None = connection
            committing = False
            try:
                session = Session(connection.raw, self.queries, self.dialect)
                if transactional:
                    session.raw("START TRANSACTION")
                    try:
                        result = fn(session)
                    except BaseException:
                        session.raw("ROLLBACK")
                        raise
                    committing = True
                    session.raw("COMMIT")
                    return result
                return fn(session)
            except singlestoredb.Error as exc:
                if not _is_connection_error(exc):
                    raise _translate(exc) from exc
                keep = None
                self._discard(connection)
                if attempt == 2 or committing:
                    raise _translate(exc) from exc
            except OSError as exc:
                keep = None
                self._discard(connection)
                if attempt == 2 or committing:
                    raise DatabaseUnavailable(str(exc)) from exc
            finally:
                self._release(keep)
        raise AssertionError("unreachable")

    def read(self, fn: Callable[[Session], T]) -> T:
        return self._run(fn, transactional=False)

    def write(self, fn: Callable[[Session], T]) -> T:
        return self._run(fn, transactional=True)

    def ping(self) -> None:
        self.read(lambda session: session.raw("SELECT 1"))

    def close(self) -> None:
        self._closed = True
        while True:
            try:
                self._discard(self._idle.get_nowait())
            except queue.Empty:
                break

"""The async facade that handlers use: every call runs on a worker thread of its own pool.

Handlers address SQL by query name (`sql/queries`); multi-statement work goes in a sync
function passed to `transaction`, which runs start to finish on one connection.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .engine import Engine
from .session import Params, Result, Row, Session

T = TypeVar("T")


class Database:
    def __init__(self, engine: Engine, threads: int = 8) -> None:
        self.engine = engine
        self.dialect = engine.dialect
        # Reads and writes on separate threads, so a read (a status poll, say) never queues
        # behind writes that wait for a lock. SQLite has one writer connection, so one write
        # thread; other engines write on several connections at once.
        writers = 1 if engine.dialect == "sqlite" else threads
        self._readers = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db-read")
        self._writers = ThreadPoolExecutor(max_workers=writers, thread_name_prefix="db-write")

    async def _read(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._readers, fn, *args)

    async def _write(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._writers, fn, *args)

    async def fetch_all(self, name: str, params: Params = None) -> list[Row]:
        return await self._read(self.engine.read, lambda s: s.fetch_all(name, params))

    async def fetch_one(self, name: str, params: Params = None) -> Row | None:
        return await self._read(self.engine.read, lambda s: s.fetch_one(name, params))

    async def fetch_value(self, name: str, params: Params = None) -> Any:
        return await self._read(self.engine.read, lambda s: s.fetch_value(name, params))

    async def execute(self, name: str, params: Params = None) -> Result:
        return await self._write(self.engine.write, lambda s: s.execute(name, params))

    async def execute_many(self, name: str, rows: Iterable[Mapping[str, Any]]) -> int:
        batch = list(rows)
        return await self._write(self.engine.write, lambda s: s.execute_many(name, batch))

    async def transaction(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in one transaction on a worker thread."""
        return await self._write(self.engine.write, fn)

    async def autocommit(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` with each statement committing on its own (DDL; see
        `Engine.autocommit`) on a worker thread."""
        return await self._write(self.engine.autocommit, fn)

    async def read(self, fn: Callable[[Session], T]) -> T:
        """Run several reads in `fn(session)` on one connection."""
        return await self._read(self.engine.read, fn)

    async def ping(self) -> None:
        await self._read(self.engine.ping)

    async def check_writable(self) -> None:
        """Raise DatabaseReadOnly (or DatabaseUnavailable) unless the database accepts a write:
        `health_write_probe` in a transaction that is always rolled back."""
        await self._write(_probe_write, self.engine)

    def close(self) -> None:
        self._readers.shutdown(wait=True)
        self._writers.shutdown(wait=True)
        self.engine.close()


class _RolledBack(Exception):
    """Raised inside the probe's transaction so that the engine rolls it back."""


def _probe_write(engine: Engine) -> None:
    def probe(session: Session) -> None:
        session.execute("health_write_probe")
        raise _RolledBack

    with contextlib.suppress(_RolledBack):
        engine.write(probe)

"""The async facade that handlers use: every call runs on a worker thread of its own pool.

Handlers address SQL by query name (`sql/queries`); multi-statement work goes in a sync
function passed to `transaction`, which runs start to finish on one connection.
"""

from __future__ import annotations

import asyncio
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
        self._executor = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="db")

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def fetch_all(self, name: str, params: Params = None) -> list[Row]:
        return await self._in_thread(self.engine.read, lambda s: s.fetch_all(name, params))

    async def fetch_one(self, name: str, params: Params = None) -> Row | None:
        return await self._in_thread(self.engine.read, lambda s: s.fetch_one(name, params))

    async def fetch_value(self, name: str, params: Params = None) -> Any:
        return await self._in_thread(self.engine.read, lambda s: s.fetch_value(name, params))

    async def execute(self, name: str, params: Params = None) -> Result:
        return await self._in_thread(self.engine.write, lambda s: s.execute(name, params))

    async def execute_many(self, name: str, rows: Iterable[Mapping[str, Any]]) -> int:
        batch = list(rows)
        return await self._in_thread(self.engine.write, lambda s: s.execute_many(name, batch))

    async def transaction(self, fn: Callable[[Session], T]) -> T:
        """Run `fn(session)` in one transaction on a worker thread."""
        return await self._in_thread(self.engine.write, fn)

    async def read(self, fn: Callable[[Session], T]) -> T:
        """Run several reads in `fn(session)` on one connection."""
        return await self._in_thread(self.engine.read, fn)

    async def ping(self) -> None:
        await self._in_thread(self.engine.ping)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        self.engine.close()

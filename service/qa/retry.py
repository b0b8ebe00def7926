"""Run a QA transaction again when it lost a lock conflict."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import structlog

from service.db import Database, LockConflict, Session

log = structlog.get_logger(__name__)

T = TypeVar("T")


async def transaction_with_retry(db: Database, fn: Callable[[Session], T], attempts: int = 3) -> T:
    """Run a transaction, again if it lost a lock conflict: a deadlock victim (MariaDB can be
    one through its unique-index checks, even with consistent lock order) or a lock wait
    timeout (SingleStore has no deadlock detector: a cycle ends as errno 1205)."""
    for attempt in range(1, attempts + 1):
        try:
            return await db.transaction(fn)
        except LockConflict as exc:
            if attempt == attempts:
                raise
            log.info("qa transaction retried after a lock conflict", attempt=attempt,
                     error=str(exc))  # fmt: skip
    raise AssertionError("unreachable")

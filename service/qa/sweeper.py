"""The periodic TTL sweep: releases idle sessions even when no QA request comes in.

Requests also sweep lazily (creating or reading a session, and voting on an idle one), so
this only bounds how long an abandoned session keeps its snapshots reserved when the QA API
is quiet. On the way out, in every process, it also stops a refit of the assisted rule that is
in flight.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog

from service.db import DatabaseUnavailable
from service.qa import assisted, sessions
from service.services import Services

log = structlog.get_logger(__name__)


def interval(ttl_seconds: float) -> float:
    """A quarter of the TTL, between 1 and 60 seconds."""
    return min(60.0, max(1.0, ttl_seconds / 4))


async def _loop(services: Services) -> None:
    rules = sessions.Rules.from_settings(services.settings)
    pause = interval(rules.ttl.total_seconds())
    while True:
        await asyncio.sleep(pause)
        try:
            await sessions.sweep(services.db, rules)
            await sessions.settle_decided(services.db, rules)
        except DatabaseUnavailable as exc:  # expected during an outage: one line, no trace
            log.warning("qa sweep skipped: database unavailable", error=str(exc))
        except Exception:  # keep sweeping; a bug must not stop the sweeper for good
            log.exception("qa sweep failed")


@asynccontextmanager
async def qa_sweeper(services: Services) -> AsyncIterator[None]:
    try:
        if not services.primary:  # one sweeper per service is enough
            yield
            return
        task = asyncio.create_task(_loop(services), name="qa-sweeper")
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
    finally:  # a refit of the assisted rule in flight stops before the database closes
        await assisted.learner_for(services.db).close()

"""Waiting for a database that is not up yet (a container still starting, a restart)."""

from __future__ import annotations

import time
from collections.abc import Callable
from urllib.parse import urlsplit

from .engine import Engine
from .errors import DatabaseUnavailable

FIRST_DELAY = 0.5  # seconds before the second try; doubles up to MAX_DELAY
MAX_DELAY = 5.0

OnRetry = Callable[[int, float, DatabaseUnavailable], None]


def describe(url: str) -> str:
    """`host:port/database` of a database URL, without the credentials (for messages)."""
    parts = urlsplit(url)
    if parts.scheme == "sqlite":
        return url
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.hostname}{port}{parts.path}"


def wait_until_reachable(
    engine: Engine,
    timeout: float,
    on_retry: OnRetry = lambda attempt, pause, error: None,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Ping until the database answers; return the number of tries.

    Only "cannot reach it" is retried (DatabaseUnavailable), with exponential backoff, for at
    most `timeout` seconds in all (0: one try). Then the last error is raised again.
    """
    deadline = time.monotonic() + timeout
    delay = FIRST_DELAY
    attempt = 1
    while True:
        try:
            engine.ping()
            return attempt
        except DatabaseUnavailable as exc:
            left = deadline - time.monotonic()
            if left <= 0:
                raise
            pause = min(delay, left)
            on_retry(attempt, pause, exc)
            sleep(pause)
            delay = min(delay * 2, MAX_DELAY)
            attempt += 1

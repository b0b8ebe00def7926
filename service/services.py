"""The long-lived things a running service holds, opened together and closed together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import structlog

from service.config import SQL_DIR, Settings
from service.db import Database, DatabaseUnavailable, create_engine, describe, wait_until_reachable
from service.imaging import configure_pixel_budget, return_big_allocations
from service.storage import BlobStore, create_blob_store

log = structlog.get_logger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    blobs: BlobStore
    # The one process of the service (of WEB_CONCURRENCY) that runs the background upkeep:
    # similarity catch-up and rescoring, the QA session sweep.
    primary: bool = True
    # Set when the process begins to stop (SIGTERM): background work takes nothing new.
    stopping: asyncio.Event = field(default_factory=asyncio.Event)


def open_database(settings: Settings) -> Database:
    engine = create_engine(
        settings.database_url,
        SQL_DIR,
        pool_size=settings.db_pool_size,
        lock_wait_timeout=settings.db_lock_wait_timeout,
    )
    return Database(engine, threads=settings.db_pool_size)


def wait_for_database(settings: Settings) -> None:
    """Block until the database answers, retrying with backoff for DB_CONNECT_TIMEOUT seconds.

    Raises DatabaseUnavailable when it never does. SQLite is a file: one try, no waiting.
    """
    where = describe(settings.database_url)

    def on_retry(attempt: int, pause: float, error: DatabaseUnavailable) -> None:
        log.warning(
            "database unreachable, retrying",
            database=where,
            attempt=attempt,
            retry_in=round(pause, 1),
            error=str(error),
        )

    engine = create_engine(settings.database_url, SQL_DIR, pool_size=1)
    timeout = 0.0 if settings.dialect == "sqlite" else settings.db_connect_timeout
    try:
        tries = wait_until_reachable(engine, timeout, on_retry)
    finally:
        engine.close()
    if tries > 1:
        log.info("database reachable", database=where, attempts=tries)


@asynccontextmanager
async def open_services(settings: Settings, primary: bool = True) -> AsyncIterator[Services]:
    configure_pixel_budget(settings.pixel_budget, settings.pixel_wait)
    return_big_allocations()
    db = open_database(settings)
    # Local blobs are served by this app at /images; PUBLIC_URL makes those URLs absolute.
    blobs = await asyncio.to_thread(
        create_blob_store, settings.storage_url, f"{settings.public_url}/images"
    )
    try:
        yield Services(settings=settings, db=db, blobs=blobs, primary=primary)
    finally:
        blobs.close()
        await asyncio.to_thread(db.close)
        log.info("services closed")

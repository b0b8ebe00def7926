"""Database access: two engines (SQLite, SingleStore) behind one small async facade."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from .database import Database
from .engine import Engine
from .errors import (
    DatabaseError,
    DatabaseReadOnly,
    DatabaseUnavailable,
    IntegrityError,
    LockConflict,
    MigrationError,
)
from .migrations import Migration, migrate
from .queries import Queries, QueryError
from .session import Result, Row, Session
from .waiting import describe, wait_until_reachable

__all__ = [
    "Database",
    "DatabaseError",
    "DatabaseReadOnly",
    "DatabaseUnavailable",
    "Engine",
    "IntegrityError",
    "LockConflict",
    "MigrationError",
    "Queries",
    "QueryError",
    "Result",
    "Row",
    "Session",
    "create_engine",
    "describe",
    "migrate",
    "migrate_database",
    "sqlite_path",
    "wait_until_reachable",
]


def sqlite_path(url: str) -> Path:
    """`sqlite:///var/x.db` is relative to the working directory, `sqlite:////abs/x.db` not."""
    parts = urlsplit(url)
    return Path(parts.netloc + parts.path.removeprefix("/"))


def create_engine(
    url: str, sql_dir: Path, pool_size: int = 8, lock_wait_timeout: int = 5
) -> Engine:
    if url.startswith("sqlite:"):
        from .sqlite import SQLiteEngine

        return SQLiteEngine(sqlite_path(url), Queries(sql_dir, "sqlite"))
    from .singlestore import SingleStoreEngine

    return SingleStoreEngine(
        url,
        Queries(sql_dir, "singlestore"),
        pool_size=pool_size,
        lock_wait_timeout=lock_wait_timeout,
    )


def migrate_database(url: str, sql_dir: Path, lock_wait_timeout: int = 5) -> list[Migration]:
    """Apply the pending migrations to the database at `url`, on an engine of its own."""
    engine = create_engine(url, sql_dir, lock_wait_timeout=lock_wait_timeout)
    try:
        return migrate(engine, sql_dir)
    finally:
        engine.close()

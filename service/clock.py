"""Time as the database stores it: naive UTC, turned back into zoned UTC for answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def utcnow() -> datetime:
    """Naive UTC now: the form every timestamp parameter takes (never NOW() in SQL)."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_datetime(value: Any) -> datetime | None:
    """Engines hand back datetimes, or text from SQLite aggregates; normalise."""
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value))


def as_utc(value: Any) -> datetime | None:
    """Stored timestamps are naive UTC; answers carry the zone (RFC 3339, `...Z`)."""
    when = as_datetime(value)
    if when is None:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)

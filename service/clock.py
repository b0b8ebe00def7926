"""Time as the database stores it: naive UTC, turned back into zoned UTC for answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

# What reads the time for leases: `utcnow` in service, a settable clock in tests (so a lease
# expires when a test moves the clock, not after a real sleep).
Clock = Callable[[], datetime]


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


class ManualClock:
    """A `Clock` that moves only when told to (tests: expire a lease without waiting)."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

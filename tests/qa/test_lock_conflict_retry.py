"""A QA transaction that loses a lock conflict (deadlock 1213 or lock wait timeout 1205) is run
again; any other database error is not."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from service.db import DatabaseError, LockConflict
from service.qa.retry import transaction_with_retry


class FlakyDatabase:
    """Fails the first `failures` transactions with `error`, then runs them."""

    def __init__(self, error: Exception, failures: int) -> None:
        self.error, self.failures, self.calls = error, failures, 0

    async def transaction(self, fn: Any) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return fn(None)


@pytest.mark.parametrize(
    "error",
    [LockConflict("(1205) Lock wait timeout exceeded"), LockConflict("(1213) Deadlock found")],
)
def test_lock_conflicts_are_retried(error: Exception) -> None:
    db = FlakyDatabase(error, failures=2)
    assert asyncio.run(transaction_with_retry(db, lambda _: "done")) == "done"  # type: ignore[arg-type]
    assert db.calls == 3


def test_a_lock_conflict_on_every_attempt_is_raised() -> None:
    db = FlakyDatabase(LockConflict("(1205) Lock wait timeout exceeded"), failures=5)
    with pytest.raises(LockConflict):
        asyncio.run(transaction_with_retry(db, lambda _: "done"))  # type: ignore[arg-type]
    assert db.calls == 3


def test_other_errors_are_not_retried() -> None:
    db = FlakyDatabase(DatabaseError("(1146) Table doesn't exist"), failures=1)
    with pytest.raises(DatabaseError):
        asyncio.run(transaction_with_retry(db, lambda _: "done"))  # type: ignore[arg-type]
    assert db.calls == 1

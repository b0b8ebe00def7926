"""What both engines offer: run a function on a session, in or out of a transaction."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import TypeVar

from .session import Session

T = TypeVar("T")


class Engine(ABC):
    dialect: str

    @abstractmethod
    def read(self, fn: Callable[[Session], T]) -> T:
        """Run `fn` on a connection for reading (no write lock, no transaction kept open).

        SQLite refuses writes here (its readers are query_only); SingleStore would autocommit
        them, so keep every write in `write`.
        """

    @abstractmethod
    def write(self, fn: Callable[[Session], T]) -> T:
        """Run `fn` inside one transaction: committed if it returns, rolled back if it raises."""

    def autocommit(self, fn: Callable[[Session], T]) -> T:
        """Run `fn` with no transaction around it: each statement commits on its own. For DDL,
        which SingleStore commits implicitly or refuses inside a transaction. SQLite's DDL is
        transactional, so there it runs as one write."""
        return self.write(fn)

    @abstractmethod
    def ping(self) -> None:
        """Raise DatabaseUnavailable unless a trivial query succeeds."""

    @abstractmethod
    def close(self) -> None: ...

"""A sync unit of work on one DB-API connection, addressed by query name.

Engines hand a `Session` to a function that runs in a worker thread; the async `Database`
facade never touches a connection itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from .queries import Queries

Params = Mapping[str, Any] | None
Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class Result:
    rowcount: int
    lastrowid: int | None


class Session:
    """Runs named queries (or raw SQL, for migrations and the shell) on one connection."""

    def __init__(self, connection: Any, queries: Queries, dialect: str) -> None:
        self.connection = connection
        self.queries = queries
        self.dialect = dialect

    def _cursor_run(self, sql: str, params: Params) -> Any:
        cursor = self.connection.cursor()
        if params:
            cursor.execute(sql, dict(params))
        else:  # no interpolation at all, so a literal `%` needs no escaping
            cursor.execute(sql)
        return cursor

    @staticmethod
    def _rows(cursor: Any) -> list[Row]:
        if cursor.description is None:
            return []
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def fetch_all(self, name: str, params: Params = None) -> list[Row]:
        return self._rows(self._cursor_run(self.queries.sql(name), params))

    def fetch_one(self, name: str, params: Params = None) -> Row | None:
        rows = self.fetch_all(name, params)
        return rows[0] if rows else None

    def fetch_value(self, name: str, params: Params = None) -> Any:
        row = self.fetch_one(name, params)
        return None if row is None else next(iter(row.values()))

    def execute(self, name: str, params: Params = None) -> Result:
        cursor = self._cursor_run(self.queries.sql(name), params)
        return Result(cursor.rowcount, cursor.lastrowid)

    def execute_many(self, name: str, rows: Iterable[Mapping[str, Any]]) -> int:
        batch = [dict(row) for row in rows]
        if not batch:
            return 0
        cursor = self.connection.cursor()
        cursor.executemany(self.queries.sql(name), batch)
        return cursor.rowcount

    def raw(self, sql: str, params: Params = None) -> list[Row]:
        """Run SQL text that is not a named query (migrations, the `sql` shell)."""
        return self._rows(self._cursor_run(sql, params))

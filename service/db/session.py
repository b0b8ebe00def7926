"""A sync unit of work on one DB-API connection, addressed by query name.

Engines hand a `Session` to a function that runs in a worker thread; the async `Database`
facade never touches a connection itself. Driver errors leave a Session already translated
into ours (`IntegrityError`, `DatabaseUnavailable`, `DatabaseError`), so a transaction
function can catch, say, a duplicate key without importing a driver.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .errors import DatabaseError
from .queries import Queries, QueryError
from .sqltext import is_ddl, is_insert

Params = Mapping[str, Any] | None
Row = dict[str, Any]
Translate = Callable[[BaseException], DatabaseError]


@dataclass(frozen=True, slots=True)
class Result:
    rowcount: int
    lastrowid: int | None


class Session:
    """Runs named queries (or raw SQL, for migrations and the shell) on one connection."""

    def __init__(
        self,
        connection: Any,
        queries: Queries,
        dialect: str,
        driver_errors: tuple[type[BaseException], ...] = (),
        translate: Translate = lambda exc: DatabaseError(str(exc)),
        *,
        is_singlestore: bool = False,
    ) -> None:
        self.connection = connection
        self.queries = queries
        self.dialect = dialect
        self._driver_errors = driver_errors
        self._translate = translate
        # A real SingleStore server (not SQLite, not the MariaDB test stand-in): queries that
        # only SingleStore parses (vector index search options) may run.
        self.is_singlestore = is_singlestore
        # Set by the SingleStore engine inside START TRANSACTION ... COMMIT, where DDL is
        # refused here: SingleStore would commit it on its own, or refuse it (autocommit).
        self.in_transaction = False

    @contextmanager
    def _translated(self) -> Iterator[None]:
        try:
            yield
        except self._driver_errors as exc:
            raise self._translate(exc) from exc

    def _cursor_run(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        if self.in_transaction and is_ddl(sql):
            raise DatabaseError(
                "DDL inside a transaction (SingleStore commits it on its own or refuses it): "
                f"run it with autocommit: {sql[:60]!r}"
            )
        cursor = self.connection.cursor()
        with self._translated():
            # sqlite3 refuses None for "no parameters"; pyformat drivers skip interpolation
            # on None and interpolate on any dict, even an empty one.
            if params is None:
                cursor.execute(sql)
            else:
                cursor.execute(sql, params)
        return cursor

    def _values(self, name: str, params: Params) -> dict[str, Any]:
        """The parameters as a dict, checked against the ones the query names."""
        values = dict(params) if params else {}
        missing = [p for p in self.queries[name].params if p not in values]
        if missing:
            raise QueryError(f"query {name!r} needs parameter(s): {', '.join(missing)}")
        return values

    def _sql(self, name: str) -> str:
        # The MySQL stand-in of the tests gets the SingleStore text less what it lacks.
        return self.queries.sql(
            name, stand_in=self.dialect == "singlestore" and not self.is_singlestore
        )

    def _named(self, name: str, params: Params) -> Any:
        # Always a dict, never None: named SQL is rendered with `%%` and must be interpolated.
        return self._cursor_run(self._sql(name), self._values(name, params))

    def _rows(self, cursor: Any) -> list[Row]:
        if cursor.description is None:
            return []
        names = [column[0] for column in cursor.description]
        with self._translated():
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    def fetch_all(self, name: str, params: Params = None) -> list[Row]:
        return self._rows(self._named(name, params))

    def fetch_one(self, name: str, params: Params = None) -> Row | None:
        rows = self.fetch_all(name, params)
        return rows[0] if rows else None

    def fetch_value(self, name: str, params: Params = None) -> Any:
        row = self.fetch_one(name, params)
        return None if row is None else next(iter(row.values()))

    def explain(self, name: str, params: Params = None) -> list[Row]:
        """The server's plan for a named query with these parameters (`EXPLAIN`)."""
        # A keyword before the query's own text, which names its parameters: nothing else
        # is put into SQL here.
        sql = "EXPLAIN " + self._sql(name)
        return self._rows(self._cursor_run(sql, self._values(name, params)))

    def execute(self, name: str, params: Params = None) -> Result:
        cursor = self._named(name, params)
        # Drivers report a stale or zero id after UPDATE, DELETE or an ignored INSERT.
        inserted = cursor.rowcount > 0 and is_insert(self.queries[name].sql)
        return Result(cursor.rowcount, (cursor.lastrowid or None) if inserted else None)

    def execute_many(self, name: str, rows: Iterable[Mapping[str, Any]]) -> int:
        if self.dialect == "sqlite":  # by position: a submit can write 10,000 rows
            sql, names = self.queries.numbered(name)
            rows = rows if isinstance(rows, list) else list(rows)
            try:
                batch: list[Any] = [tuple(row[n] for n in names) for row in rows]
            except KeyError:
                missing = [row for row in rows if not all(n in row for n in names)]
                self._values(name, missing[0] if missing else {})  # raises, naming them
                raise
        else:
            sql, batch = self._sql(name), [self._values(name, row) for row in rows]
        if not batch:
            return 0
        cursor = self.connection.cursor()
        with self._translated():
            cursor.executemany(sql, batch)
        return cursor.rowcount

    def raw(self, sql: str, params: Params = None) -> list[Row]:
        """Run SQL text that is not a named query (migrations, the `sql` shell).

        The text goes to the driver as written: `:name` parameters on SQLite, `%(name)s` on
        SingleStore, where `%` is only special when `params` are given.
        """
        return self._rows(self._cursor_run(sql, dict(params) if params else None))

"""Named SQL queries loaded from `sql/queries` (aiosql style).

A file holds blocks that start with `-- name: some_name`; comment lines right under the name
are its doc. `sql/queries/*.sql` is shared by both engines; a block with the same name in
`sql/queries/<dialect>/*.sql` overrides it. Everything is read and checked once, at start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from . import mysql_compat
from .sqltext import named_params, split_statements, strip_comments, to_numbered, to_pyformat

_HEADER = re.compile(r"^--\s*name:(.*)$", re.MULTILINE)
_NAME = re.compile(r"[a-z_][a-z0-9_]*")


class QueryError(ValueError):
    """A query file is malformed, or a query name is unknown."""


@dataclass(frozen=True, slots=True)
class Query:
    name: str
    sql: str
    doc: str
    params: tuple[str, ...]
    source: str


def parse_file(path: Path) -> list[Query]:
    text = path.read_text()
    headers = list(_HEADER.finditer(text))
    preamble = text[: headers[0].start()] if headers else text
    if strip_comments(preamble):
        raise QueryError(f"{path}: SQL before the first '-- name:' header")
    queries = []
    for index, header in enumerate(headers):
        name = header.group(1).strip()
        if not _NAME.fullmatch(name):
            raise QueryError(f"{path}: bad query name {name!r} (lower_snake_case expected)")
        end = headers[index + 1].start() if index + 1 < len(headers) else len(text)
        doc_lines, sql_lines = [], []
        for line in text[header.end() : end].strip("\n").splitlines():
            if not sql_lines and line.startswith("--"):
                doc_lines.append(line.lstrip("-").strip())
            else:
                sql_lines.append(line)
        statements = split_statements("\n".join(sql_lines))
        if not statements:
            raise QueryError(f"{path}: query {name!r} is empty")
        if len(statements) != 1:
            raise QueryError(f"{path}: query {name!r} holds more than one statement")
        sql = statements[0]
        queries.append(Query(name, sql, " ".join(doc_lines), tuple(named_params(sql)), str(path)))
    return queries


class Queries:
    """All named queries for one dialect, with parameters already in the driver's style."""

    def __init__(self, sql_dir: Path, dialect: str) -> None:
        self.dialect = dialect
        self._queries: dict[str, Query] = {}
        base = sql_dir / "queries"
        for layer in (base, base / dialect):
            names_in_layer: set[str] = set()
            for path in sorted(layer.glob("*.sql")):
                for query in parse_file(path):
                    if query.name in names_in_layer:
                        raise QueryError(f"{path}: query {query.name!r} is defined twice")
                    names_in_layer.add(query.name)
                    self._queries[query.name] = query
        self._numbered: dict[str, tuple[str, tuple[str, ...]]] = {}
        self._stand_in: dict[str, str] = {}
        self._rendered = {
            name: (to_pyformat(q.sql) if dialect != "sqlite" else q.sql)
            for name, q in self._queries.items()
        }

    def numbered(self, name: str) -> tuple[str, tuple[str, ...]]:
        """SQLite only: the text with `?N` parameters, and their names in N order."""
        if self.dialect != "sqlite":
            raise QueryError("numbered parameters are SQLite's")
        found = self._numbered.get(name)
        if found is None:
            found = self._numbered[name] = to_numbered(self[name].sql)
        return found

    def sql(self, name: str, stand_in: bool = False) -> str:
        """The text for the driver; `stand_in`: as a MySQL-protocol server that is not
        SingleStore (the tests' MariaDB) takes it (`mysql_compat.translate_query`)."""
        try:
            rendered = self._rendered[name]
        except KeyError:
            raise QueryError(f"unknown query {name!r}") from None
        if not stand_in or self.dialect != "singlestore":
            return rendered
        found = self._stand_in.get(name)
        if found is None:
            found = self._stand_in[name] = mysql_compat.translate_query(rendered)
        return found

    def __getitem__(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            raise QueryError(f"unknown query {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._queries

    def names(self) -> list[str]:
        return sorted(self._queries)

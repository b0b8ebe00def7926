"""Named SQL queries loaded from `sql/queries` (aiosql style).

A file holds blocks that start with `-- name: some_name`; comment lines right under the name
are its doc. `sql/queries/*.sql` is shared by both engines; a block with the same name in
`sql/queries/<dialect>/*.sql` overrides it. Everything is read and checked once, at start.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .sqltext import named_params, split_statements, to_pyformat

_NAME = re.compile(r"^--\s*name:\s*([a-z_][a-z0-9_]*)\s*$", re.MULTILINE)


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
    matches = list(_NAME.finditer(text))
    if not matches and text.strip():
        raise QueryError(f"{path}: no '-- name:' header")
    queries = []
    for index, match in enumerate(matches):
        end = matches[index + 1].start() if index + 1 < len(matches) else len(text)
        body = text[match.end() : end].strip("\n")
        doc_lines, sql_lines = [], []
        for line in body.splitlines():
            if not sql_lines and line.startswith("--"):
                doc_lines.append(line.lstrip("-").strip())
            else:
                sql_lines.append(line)
        sql = "\n".join(sql_lines).strip().rstrip(";").strip()
        if not sql:
            raise QueryError(f"{path}: query {match.group(1)!r} is empty")
        if len(split_statements(sql)) != 1:
            raise QueryError(f"{path}: query {match.group(1)!r} holds more than one statement")
        queries.append(
            Query(match.group(1), sql, " ".join(doc_lines), tuple(named_params(sql)), str(path))
        )
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
        self._rendered = {
            name: (to_pyformat(q.sql) if dialect != "sqlite" else q.sql)
            for name, q in self._queries.items()
        }

    def sql(self, name: str) -> str:
        try:
            return self._rendered[name]
        except KeyError:
            raise QueryError(f"unknown query {name!r}") from None

    def __getitem__(self, name: str) -> Query:
        try:
            return self._queries[name]
        except KeyError:
            raise QueryError(f"unknown query {name!r}") from None

    def __contains__(self, name: str) -> bool:
        return name in self._queries

    def names(self) -> list[str]:
        return sorted(self._queries)

"""The project's own `sql/`: every migration applies on both engines, every query compiles.

New files in sql/sqlite, sql/singlestore and sql/queries are picked up here without edits,
so a migration or query that SQLite or MariaDB (standing in for SingleStore) rejects fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.config import SQL_DIR
from service.db import Engine, Queries, create_engine, migrate
from service.db.migrations import discover

# MariaDB has no vector functions; queries using them are compiled on SQLite only.
_VECTOR_FUNCTIONS = re.compile(
    r"\b(?:DOT_PRODUCT|EUCLIDEAN_DISTANCE|JSON_ARRAY_(?:UN)?PACK|VECTOR_\w+)\s*\(|<\*>|<->",
    re.IGNORECASE,
)

_DDL = re.compile(r"\s*(?:CREATE|DROP|ALTER)\b", re.IGNORECASE)


def versions(dialect: str) -> list[tuple[int, str]]:
    return [(m.version, m.name) for m in discover(SQL_DIR, dialect)]


def test_both_dialects_have_the_same_migrations() -> None:
    assert versions("sqlite") == versions("singlestore")


@pytest.fixture(params=["sqlite", "mariadb"])
def real_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'real.db'}"
    else:
        url = request.getfixturevalue("mariadb_url")
    engine = create_engine(url, SQL_DIR)
    yield engine
    engine.close()


def test_migrations_apply_once(real_engine: Engine) -> None:
    applied = migrate(real_engine, SQL_DIR)
    assert [(m.version, m.name) for m in applied] == versions(real_engine.dialect)
    assert migrate(real_engine, SQL_DIR) == []


def test_named_queries_compile_against_the_schema(real_engine: Engine) -> None:
    migrate(real_engine, SQL_DIR)
    queries = Queries(SQL_DIR, real_engine.dialect)
    names = queries.names()
    assert names
    if getattr(real_engine, "is_singlestore", None) is False:  # MariaDB
        names = [n for n in names if not _VECTOR_FUNCTIONS.search(queries[n].sql)]
    # DDL cannot be EXPLAINed; the one named DDL (similarity's resize) has its own test
    names = [n for n in names if not _DDL.match(queries[n].sql)]
    failures = {}
    for name in names:
        # EXPLAIN compiles the statement (tables, columns, functions, syntax) without running
        # it; 1 is an acceptable value for every parameter, LIMIT ones included.
        values = dict.fromkeys(queries[name].params, 1)
        sql = "EXPLAIN " + queries.sql(name)
        try:
            real_engine.read(lambda s, q=sql, v=values: s.connection.cursor().execute(q, v))
        except Exception as exc:  # collected: the assertion names every failing query
            failures[name] = str(exc)
    assert failures == {}

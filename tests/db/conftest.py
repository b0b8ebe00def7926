"""Fixtures for the database-layer tests: engines on a small test schema (tests/db/sql).

The MariaDB server fixtures live in tests/mariadb.py so that any test folder can use them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from service.db import Engine, create_engine, migrate

TEST_SQL = Path(__file__).parent / "sql"


@pytest.fixture
def test_sql() -> Path:
    """The test schema and named queries (tests/db/sql), laid out like the real `sql/`."""
    return TEST_SQL


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.fixture
def sqlite_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = create_engine(sqlite_url, TEST_SQL)
    migrate(engine, TEST_SQL)
    yield engine
    engine.close()


@pytest.fixture
def mariadb_engine(mariadb_url: str) -> Iterator[Engine]:
    engine = create_engine(mariadb_url, TEST_SQL, pool_size=4)
    migrate(engine, TEST_SQL)
    yield engine
    engine.close()


@pytest.fixture(params=["sqlite", "mariadb"])
def engine(request: pytest.FixtureRequest) -> Engine:
    """The same scenario on the embedded engine and on the SingleStore engine (MariaDB)."""
    return request.getfixturevalue(f"{request.param}_engine")

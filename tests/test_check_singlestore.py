"""`python -m service check-singlestore` against MariaDB: everything that can run here passes,
the SingleStore-only parts are skipped by name, and the scratch database is gone after."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest

from service.__main__ import main
from service.config import SQL_DIR, Settings
from service.db import Queries
from service.singlestore_check import SCRATCH, report, run_checks
from tests.mariadb import MariaDBServer

pytestmark = pytest.mark.mariadb

SKIPPED_HERE = {
    "vector index product_embeddings_ann",
    "vector index snapshot_embeddings_ann",
    "vector index job_image_embeddings_ann",
    "similarity_nearest_snapshots returns k=10 rows",
    "similarity_nearest_snapshots_ann returns k=10 rows",
    "similarity_nearest_products returns k=10 rows",
    "similarity_nearest_products_ann returns k=10 rows",
    "similarity_nearest_snapshots keeps off the vector index (EXPLAIN)",
    "similarity_nearest_snapshots_ann uses the vector index (EXPLAIN)",
    "similarity_nearest_products keeps off the vector index (EXPLAIN)",
    "similarity_nearest_products_ann uses the vector index (EXPLAIN)",
    "query similarity_nearest_snapshots",
    "query similarity_nearest_snapshots_ann",
    "query similarity_nearest_products",
    "query similarity_nearest_products_ann",
    # `reembed --prune` to another dimension: VECTOR(n) tables (dropped first, which runs)
    "query similarity_resize_create_product_embeddings",
    "query similarity_resize_create_snapshot_embeddings",
    "query similarity_resize_create_job_image_embeddings",
}


def databases(server: MariaDBServer) -> set[str]:
    return {row[0] for row in server.execute("SHOW DATABASES")}


def test_the_check_passes_on_mariadb_with_singlestore_parts_skipped_by_name(
    mariadb_server: MariaDBServer,
    mariadb_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("DATABASE_URL", mariadb_url)
    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert main(["check-singlestore"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("server: 10.") and "MariaDB" in out
    lines = {line.split("  ")[0].strip(): line for line in out.splitlines() if "  " in line}
    assert {name for name, line in lines.items() if " SKIP" in line} == SKIPPED_HERE
    assert not [line for line in lines.values() if " FAIL" in line]
    for name in Queries(SQL_DIR, "singlestore").names():
        assert f"query {name}" in lines, name  # every named query is in the table
    resize = "reembed resize: DDL in autocommit, finished by a rerun after a crash"
    for name in ("migrations apply", "text columns are utf8mb4", "4-byte text round-trips",
                 "session lock wait timeout is 5 s", resize,
                 "restricted keywords as column names, quoted, are taken"):  # fmt: skip
        assert " PASS" in lines[name]
    assert "set per session" in lines["session lock wait timeout is 5 s"]
    assert any(name.startswith("a lock wait ends in errno 1205") for name in lines)
    assert SCRATCH not in databases(mariadb_server)


def test_a_query_the_server_refuses_is_a_failure(
    mariadb_server: MariaDBServer, mariadb_url: str, tmp_path: Path
) -> None:
    sql = tmp_path / "sql"
    shutil.copytree(SQL_DIR, sql)
    with (sql / "queries" / "singlestore" / "similarity.sql").open("a") as extra:
        extra.write("\n-- name: broken_on_purpose\nSELECT no_such_column FROM products;\n")
    version, checks = run_checks(Settings(database_url=mariadb_url), sql)
    failed = [check for check in checks if check.result == "fail"]
    assert [check.name for check in failed] == ["query broken_on_purpose"]
    assert "no_such_column" in failed[0].detail
    out = io.StringIO()
    assert report(version, "here", checks, out) == 1
    assert "1 failed" in out.getvalue()
    assert SCRATCH not in databases(mariadb_server)


def test_the_check_refuses_sqlite(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert main(["check-singlestore"]) == 2
    assert "singlestoredb://" in capsys.readouterr().err


class PlanEngine:
    """Answers EXPLAIN with a given plan, as SingleStore prints one (a row per line)."""

    def __init__(self, plan: list[str]) -> None:
        self.plan = plan

    def read(self, fn):  # type: ignore[no-untyped-def]
        return fn(self)

    def explain(self, name: str, params: dict) -> list[dict[str, str]]:
        return [{"EXPLAIN": line} for line in self.plan]

    def fetch_all(self, name: str, params: dict) -> list[dict[str, int]]:
        return []  # the k-rows line is not what these tests look at


INDEXED = [
    "Project [n.snapshot_id, n.score]",
    "TopSort limit:[10] [score DESC]",
    "ColumnStoreFilter [INTERNAL_VECTOR_SEARCH(0, ?, 100, '{\"ef\": 100}') index]",
    "ColumnStoreScan check.snapshot_embeddings, SORT KEY __UNORDERED () table_type:sharded",
]
SCANNED = [line for line in INDEXED if "INTERNAL_VECTOR_SEARCH" not in line]


@pytest.mark.parametrize(
    ("query", "plan", "result"),
    [
        ("similarity_nearest_snapshots_ann", INDEXED, "pass"),
        ("similarity_nearest_snapshots_ann", SCANNED, "fail"),
        ("similarity_nearest_snapshots", SCANNED, "pass"),
        ("similarity_nearest_snapshots", INDEXED, "fail"),
    ],
)
def test_explain_says_which_query_uses_the_vector_index(
    query: str, plan: list[str], result: str
) -> None:
    from service.singlestore_check.checks import nearest
    from service.singlestore_check.fixture import Fixture

    fixture = Fixture()
    fixture.snapshot_ids, fixture.product_ids = [1], [1]
    engine = PlanEngine(plan)
    [_, check] = nearest(engine, fixture, query, is_singlestore=True)  # type: ignore[arg-type]
    assert check.name.endswith("the vector index (EXPLAIN)")
    assert check.result == result
    if plan is INDEXED:
        assert "INTERNAL_VECTOR_SEARCH" in check.detail  # the plan line is shown


def test_a_refused_session_lock_wait_is_reported_with_the_global_value(
    mariadb_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.db import create_engine
    from service.db import singlestore as singlestore_engine
    from service.singlestore_check.checks import session_timeout

    # MariaDB refuses SET SESSION of a global-only variable, as a cluster might this one.
    refused = "SET SESSION innodb_buffer_pool_size = %(seconds)s"
    monkeypatch.setitem(singlestore_engine._SET_LOCK_WAIT, False, refused)
    engine = create_engine(mariadb_url, SQL_DIR, pool_size=1, lock_wait_timeout=5)
    try:
        check = session_timeout(engine, is_singlestore=False, expected=5)
    finally:
        engine.close()
    assert check.result == "fail"  # the server's global 50 s applies, not 5
    assert "refused the session setting" in check.detail
    assert "SET GLOBAL lock_wait_timeout = 5" in check.detail

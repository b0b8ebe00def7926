"""The named-query loader: layers per dialect, and every malformed file fails at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.db import QueryError
from service.db.queries import Queries


def write(root: Path, relative: str, text: str) -> None:
    path = root / "queries" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_parses_name_doc_sql_and_params(tmp_path: Path) -> None:
    write(
        tmp_path,
        "a.sql",
        "-- A file comment.\n\n-- name: find_user\n-- Find one user\n-- by name.\n"
        "SELECT * FROM users\nWHERE name = :name AND org = :org;\n\n"
        "-- name: count_users\nSELECT COUNT(*) FROM users\n",
    )
    queries = Queries(tmp_path, "sqlite")
    query = queries["find_user"]
    assert query.doc == "Find one user by name."
    assert query.sql == "SELECT * FROM users\nWHERE name = :name AND org = :org"
    assert query.params == ("name", "org")
    assert queries.names() == ["count_users", "find_user"]
    assert queries.sql("find_user") == query.sql  # SQLite keeps `:name`


def test_pyformat_for_singlestore(tmp_path: Path) -> None:
    write(tmp_path, "a.sql", "-- name: like\nSELECT * FROM t WHERE a LIKE 'x%' AND b = :b\n")
    assert Queries(tmp_path, "singlestore").sql("like") == (
        "SELECT * FROM t WHERE a LIKE 'x%%' AND b = %(b)s"
    )


def test_dialect_file_overrides_the_shared_one(tmp_path: Path) -> None:
    write(tmp_path, "a.sql", "-- name: now_ish\nSELECT 'shared'\n\n-- name: other\nSELECT 1\n")
    write(tmp_path, "sqlite/a.sql", "-- name: now_ish\nSELECT 'sqlite'\n")
    write(tmp_path, "singlestore/b.sql", "-- name: only_there\nSELECT 2\n")
    sqlite = Queries(tmp_path, "sqlite")
    singlestore = Queries(tmp_path, "singlestore")
    assert sqlite.sql("now_ish") == "SELECT 'sqlite'"
    assert singlestore.sql("now_ish") == "SELECT 'shared'"
    assert sqlite.sql("other") == singlestore.sql("other") == "SELECT 1"
    assert "only_there" in singlestore and "only_there" not in sqlite


def test_duplicate_name_in_one_layer(tmp_path: Path) -> None:
    write(tmp_path, "a.sql", "-- name: q\nSELECT 1\n")
    write(tmp_path, "b.sql", "-- name: q\nSELECT 2\n")
    with pytest.raises(QueryError, match="'q' is defined twice"):
        Queries(tmp_path, "sqlite")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("SELECT 1\n", "SQL before the first '-- name:' header"),
        ("SELECT 1\n-- name: late\nSELECT 2\n", "SQL before the first"),
        ("-- name: Bad-Name\nSELECT 1\n", "bad query name 'Bad-Name'"),
        ("-- name:\nSELECT 1\n", "bad query name ''"),
        ("-- name: empty\n-- only a doc line\n\n-- name: next\nSELECT 1\n", "'empty' is empty"),
        ("-- name: two\nSELECT 1;\nSELECT 2;\n", "'two' holds more than one statement"),
    ],
)
def test_malformed_file(tmp_path: Path, text: str, problem: str) -> None:
    write(tmp_path, "bad.sql", text)
    with pytest.raises(QueryError, match=problem) as caught:
        Queries(tmp_path, "sqlite")
    assert "bad.sql" in str(caught.value)


def test_unknown_name(tmp_path: Path) -> None:
    write(tmp_path, "a.sql", "-- name: known\nSELECT 1\n")
    queries = Queries(tmp_path, "sqlite")
    with pytest.raises(QueryError, match="unknown query 'unknown'"):
        queries.sql("unknown")
    with pytest.raises(QueryError, match="unknown query"):
        queries["unknown"]


def test_the_mysql_stand_in_gets_the_text_less_what_it_lacks(tmp_path: Path) -> None:
    write(
        tmp_path,
        "singlestore/a.sql",
        "-- name: exact\nSELECT id, DOT_PRODUCT(v, :q) AS score FROM t\n"
        "WHERE note <> 'ORDER BY x USE INDEX () DESC'\nORDER BY score USE INDEX () DESC\n\n"
        "-- name: remake\nCREATE TABLE t (id BIGINT NOT NULL, v VECTOR(:n, F32) NOT NULL,\n"
        "    SHARD KEY (id),\n"
        '    VECTOR INDEX t_ann (v) INDEX_OPTIONS \'{"index_type":"HNSW_FLAT"}\')\n',
    )
    queries = Queries(tmp_path, "singlestore")
    assert queries.sql("exact").endswith("ORDER BY score USE INDEX () DESC")  # SingleStore's
    stand_in = queries.sql("exact", stand_in=True)
    assert stand_in.endswith("ORDER BY score DESC")
    assert "'ORDER BY x USE INDEX () DESC'" in stand_in  # a string is left alone
    assert queries.sql("remake", stand_in=True) == (
        "CREATE TABLE t (id BIGINT NOT NULL, v BLOB NOT NULL)"
    )
    write(tmp_path, "b.sql", "-- name: plain\nSELECT 1 ORDER BY 1 DESC\n")
    sqlite = Queries(tmp_path, "sqlite")
    assert sqlite.sql("plain", stand_in=True) == sqlite.sql("plain")

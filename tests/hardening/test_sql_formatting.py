"""No SQL in service/ or sql/ is built by formatting values into text (see sqlscan.py)."""

from __future__ import annotations

import textwrap

import pytest

from service.config import ROOT
from tests.hardening.sqlscan import scan_python_tree, scan_source, scan_sql_text, scan_sql_tree

# Reviewed exceptions, by file and expression (not line: lines move). Keep this short.
ALLOWED = {
    # PRAGMA takes no parameters; every value is a literal or passed through int().
    ("service/db/sqlite.py", "f'PRAGMA {pragma}'"),
}


def test_service_builds_no_sql_by_formatting() -> None:
    findings = scan_python_tree(ROOT / "service", ROOT)
    unexpected = [f for f in findings if (f.path, f.code) not in ALLOWED]
    assert not unexpected, "SQL built by string formatting:\n" + "\n".join(map(str, unexpected))
    stale = ALLOWED - {(f.path, f.code) for f in findings}
    assert not stale, f"allowed exceptions that no longer occur (remove them): {stale}"


def test_sql_files_hold_no_format_placeholders() -> None:
    findings = scan_sql_tree(ROOT / "sql", ROOT)
    assert not findings, "\n".join(map(str, findings))


PLANTED = {
    "f-string into a cursor": """
        def find(cursor, upc):
            cursor.execute(f"SELECT id FROM products WHERE upc = '{upc}'")
    """,
    "% formatting via a variable": """
        def find(session, name):
            sql = "SELECT * FROM qa_users WHERE username = '%s'" % name
            return session.raw(sql)
    """,
    ".format() via a variable": """
        def drop(connection, table):
            statement = "DELETE FROM {} WHERE 1 = 1".format(table)
            connection.execute(statement)
    """,
    "+ concatenation": """
        def touch(session, job_id):
            session.raw("UPDATE jobs SET visit_count = 0 WHERE id = " + str(job_id))
    """,
    "+= building a statement": """
        def search(cursor, words):
            sql = "SELECT id FROM products WHERE 1 = 1"
            for word in words:
                sql += " AND name LIKE '%" + word + "%'"
            cursor.execute(sql)
    """,
    "SQL text formatted, not yet executed": """
        QUERY = "INSERT INTO stores (store_id) VALUES ('%s')"
        def insert_text(store_id):
            return QUERY.replace("%s", store_id), f"INSERT INTO stores VALUES ('{store_id}')"
    """,
    "lower-case SQL reaching a sink": """
        def find(cursor, upc):
            query = f"select id from products where upc = '{upc}'"
            cursor.execute(query)
    """,
    "a fully dynamic name reaching a sink": """
        async def run(db, what):
            return await db.fetch_all(f"{what}")
    """,
}


@pytest.mark.parametrize("source", PLANTED.values(), ids=PLANTED.keys())
def test_planted_sql_formatting_is_caught(source: str) -> None:
    assert scan_source(textwrap.dedent(source)), "the scan missed it"


CLEAN = {
    "named query with parameters": """
        async def find(db, upc):
            return await db.fetch_one("catalog_product_by_upc", {"upc": upc})
    """,
    "query name chosen from an allowlisted kind": """
        def insert(session, kind, params):
            session.execute(f"similarity_insert_{kind}_embedding", params)
    """,
    "messages that mention SQL words": """
        def message(n, path):
            return f"select a file from {path}", f"update {n} rows", "deleted %d items" % n
    """,
    "raw SQL without formatting": """
        def ping(session):
            session.raw("SELECT 1")
    """,
}


@pytest.mark.parametrize("source", CLEAN.values(), ids=CLEAN.keys())
def test_clean_code_is_not_reported(source: str) -> None:
    assert scan_source(textwrap.dedent(source)) == []


def test_sql_placeholders_are_caught_and_named_parameters_are_not() -> None:
    assert scan_sql_text("SELECT * FROM t WHERE id = %(id)s")
    assert scan_sql_text("SELECT * FROM {table}")
    assert scan_sql_text("SELECT * FROM t WHERE a = %s")
    assert not scan_sql_text("SELECT * FROM t WHERE a = :a AND b LIKE 'x%'  -- {not sql}")

"""No restricted SingleStore keyword is used as a bare identifier in our SQL.

Scanned: every .sql file under sql/ and docker/, and every SQL string in service/ and
scripts/ (the code that runs against a configured database, which may be a cluster). The
SQL in tests/ runs only on SQLite and the MariaDB stand-in and is not held to this.
"""

from __future__ import annotations

from service.config import ROOT
from service.db.restricted_keywords import RESTRICTED
from tests.hardening.keywordscan import python_sql, scan, sql_files


def test_no_restricted_keyword_names_anything_bare() -> None:
    texts = [*sql_files(ROOT / "sql", ROOT), *sql_files(ROOT / "docker", ROOT)]
    texts += [*python_sql(ROOT / "service", ROOT), *python_sql(ROOT / "scripts", ROOT)]
    assert len(texts) > 40  # the scan found the SQL
    findings = scan(texts)
    assert not findings, "quote these with backticks:\n" + "\n".join(map(str, findings))


def test_the_list_is_the_whole_page() -> None:
    # The words the issue names, function and type names, and the page's first and last.
    assert {"POSITION", "PRIOR", "DAY", "LEVEL", "MODEL", "STATUS", "VERSION"} <= RESTRICTED
    assert {"DOT_PRODUCT", "DATE", "VALUE", "ABORT", "ZONE", "_UTF8"} <= RESTRICTED
    assert len(RESTRICTED) > 1000
    assert all(word == word.upper() for word in RESTRICTED)


def findings(*texts: str) -> list[str]:
    return [f.word for f in scan((f"t{n}", text) for n, text in enumerate(texts))]


def test_the_scan_finds_bare_names_in_each_position() -> None:
    ddl = "CREATE TABLE IF NOT EXISTS t (id INT, status INT, PRIMARY KEY (id, status))"
    assert findings(ddl) == ["status", "status"]  # the column and the key's column
    assert findings(ddl, "SELECT status FROM t WHERE t.status = 1") == ["status"] * 4
    assert findings("ALTER TABLE t ADD COLUMN prior DOUBLE NULL") == ["prior"]
    assert findings("SELECT DATE(x) AS day FROM t ORDER BY day") == ["day", "day"]
    assert findings("SELECT j.value FROM json_each(:ids) j") == ["value"]  # qualified
    assert findings("SELECT x FROM (SELECT 1 AS x) level WHERE level.x = 1") == ["level"] * 2
    assert findings("SELECT a FROM snapshots position") == ["position"]  # a table alias


def test_the_scan_leaves_alone_what_names_nothing() -> None:
    ddl = "CREATE TABLE t (`status` INT, `model` VARCHAR(9), PRIMARY KEY (`model`))"
    assert findings(ddl, "SELECT t.`status`, `model` AS `day` FROM t") == []
    # keywords, functions and types; strings, comments, parameters and variables
    assert findings(ddl, "SELECT DATE(x), VERSION(), CAST(y AS DATE) FROM t") == []
    assert findings(ddl, "SELECT 'status' -- status\nFROM t WHERE x = :status") == []
    assert findings("SELECT @@SESSION.lock_wait_timeout, @@global.version") == []
    assert findings("SELECT a FROM t ORDER BY a DESC, b LIMIT 1") == []

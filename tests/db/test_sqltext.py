"""The lexical helpers: statements split and parameters rewritten outside strings/comments."""

from __future__ import annotations

import pytest

from service.db.sqltext import (
    is_insert,
    mask_strings,
    named_params,
    split_statements,
    strip_comments,
    to_pyformat,
    unmask_strings,
    unquote_identifiers,
)


def test_split_on_top_level_semicolons_only() -> None:
    script = """
        CREATE TABLE a (x TEXT DEFAULT 'a;b');
        -- a comment; with a semicolon
        INSERT INTO a VALUES ("c;d"), ('it''s;'), ('back\\'slash;');
        /* block; comment */ SELECT `odd;name` FROM a # hash; comment
        ;
    """
    statements = split_statements(script)
    assert len(statements) == 3
    assert statements[0] == "CREATE TABLE a (x TEXT DEFAULT 'a;b')"
    assert statements[1].endswith("""INSERT INTO a VALUES ("c;d"), ('it''s;'), ('back\\'slash;')""")
    assert "SELECT `odd;name` FROM a" in statements[2]


def test_split_drops_empty_and_comment_only_statements() -> None:
    assert split_statements(";;  ;\n-- only a comment;\n/* and; this */;") == []
    assert split_statements("SELECT 1") == ["SELECT 1"]


def test_to_pyformat_rewrites_parameters() -> None:
    sql = "SELECT * FROM t WHERE a = :a AND b IN (:b, :a)"
    assert to_pyformat(sql) == "SELECT * FROM t WHERE a = %(a)s AND b IN (%(b)s, %(a)s)"
    assert named_params(sql) == ["a", "b"]


def test_to_pyformat_escapes_every_literal_percent() -> None:
    sql = "SELECT :x, 5 % 2, 'a%' -- 100% sure\nFROM t /* 50% */"
    assert to_pyformat(sql) == "SELECT %(x)s, 5 %% 2, 'a%%' -- 100%% sure\nFROM t /* 50%% */"


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT ':not_a_param', \":nor_this\", `:nor:this`",
        "SELECT x::int, doc::name, doc::$name",  # casts and SingleStore's JSON access
        "SELECT 1 -- :commented\n",
        "SELECT 1 /* :commented */",
        "SELECT @v := 1, a:b",
    ],
)
def test_no_parameter_inside_strings_comments_or_double_colons(sql: str) -> None:
    assert named_params(sql) == []
    assert to_pyformat(sql) == sql


def test_strip_comments_keeps_strings() -> None:
    sql = "-- head\nSELECT '-- kept', 1 /* gone */ # gone too\n"
    assert strip_comments(sql) == "SELECT '-- kept', 1"


def test_mask_and_unmask_strings() -> None:
    sql = "CREATE TABLE t (a TEXT DEFAULT 'x, SHARD KEY (a)', b TEXT DEFAULT \"y\")"
    masked, literals = mask_strings(sql)
    assert "SHARD" not in masked and literals == ["'x, SHARD KEY (a)'", '"y"']
    assert unmask_strings(masked, literals) == sql


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("INSERT INTO t VALUES (1)", True),
        ("-- doc\n  insert into t values (1)", True),
        ("REPLACE INTO t VALUES (1)", True),
        ("UPDATE t SET a = 'INSERT'", False),
        ("SELECT 1", False),
    ],
)
def test_is_insert(sql: str, expected: bool) -> None:
    assert is_insert(sql) is expected


def test_unquote_identifiers_touches_plain_names_in_code_only() -> None:
    sql = "SELECT `status`, `odd name` FROM t -- `x`\nWHERE a = '`y`' /* `z` */"
    assert unquote_identifiers(sql) == (
        "SELECT status, `odd name` FROM t -- `x`\nWHERE a = '`y`' /* `z` */"
    )

"""Rewrite SingleStore SQL so that a MySQL-protocol stand-in (MariaDB) accepts it.

Only used when the server is not SingleStore, which in practice means the test suite's
MariaDB. The production SQL stays as written; these rewrites drop what MariaDB lacks
(shard and sort keys, vector indexes, table kinds, the vector-index hint of an ORDER BY) and
store VECTOR columns as BLOBs of the same little-endian float32 bytes.
"""

from __future__ import annotations

import re

from .sqltext import mask_strings, strip_comments, unmask_strings

_TABLE_KIND = re.compile(r"\bCREATE\s+(?:ROWSTORE\s+)?(?:REFERENCE\s+)?TABLE\b", re.IGNORECASE)
# VECTOR(n[, type]); n may be a driver parameter (`%(dimension)s`, the resize queries).
_VECTOR_TYPE = re.compile(
    r"\bVECTOR\s*\(\s*(?:\d+|%\(\w+\)s)\s*(?:,\s*[A-Z0-9]+\s*)?\)", re.IGNORECASE
)
_COLUMNS = r"\s*\([^()]*\)"  # a parenthesised column list, possibly empty
_CLAUSE = (  # table clauses MariaDB lacks
    r"(?:"
    rf"SHARD\s+KEY(?:\s+\w+)?{_COLUMNS}"
    rf"|SORT\s+KEY(?:\s+\w+)?{_COLUMNS}"
    rf"|VECTOR\s+INDEX(?:\s+\w+)?{_COLUMNS}(?:\s+INDEX_OPTIONS\s*\0\d+\0)?"
    rf"|KEY(?:\s+\w+)?{_COLUMNS}\s*USING\s+CLUSTERED\s+COLUMNSTORE"
    r")"
)
# Each clause goes with the comma before it, or after it when it opens the list.
_CLAUSE_AFTER_COMMA = re.compile(rf"\s*,\s*{_CLAUSE}", re.IGNORECASE)
_CLAUSE_FIRST = re.compile(rf"\(\s*{_CLAUSE}\s*,\s*", re.IGNORECASE)
_ALTER_VECTOR_INDEX = re.compile(r"^ALTER\s+TABLE\s+\S+\s+ADD\s+VECTOR\s+INDEX\b", re.I)
_DDL = re.compile(r"^(?:CREATE|ALTER|DROP)\b", re.IGNORECASE)
# `ORDER BY score USE INDEX () DESC`: SingleStore's way to keep a query off the vector index.
_ORDER_BY_INDEX_HINT = re.compile(r"\s+USE\s+INDEX\s*\(\s*\)(?=\s+(?:ASC|DESC)\b)", re.I)


def translate_ddl(statement: str) -> str | None:
    """The MariaDB form of one SingleStore statement, or None when it has no equivalent."""
    code, literals = mask_strings(strip_comments(statement))
    if not code or _ALTER_VECTOR_INDEX.match(code):
        return None
    code = _TABLE_KIND.sub("CREATE TABLE", code)
    code = _VECTOR_TYPE.sub("BLOB", code)
    code = _CLAUSE_AFTER_COMMA.sub("", code)
    code = _CLAUSE_FIRST.sub("(", code)
    return unmask_strings(code, literals)


def translate_query(statement: str) -> str:
    """The MariaDB form of one named query: DDL as `translate_ddl` makes it, and no
    vector-index hint in an ORDER BY (MariaDB has no vector index to keep off)."""
    code, literals = mask_strings(strip_comments(statement))
    if _DDL.match(code):
        return translate_ddl(statement) or ""
    return unmask_strings(_ORDER_BY_INDEX_HINT.sub("", code), literals)

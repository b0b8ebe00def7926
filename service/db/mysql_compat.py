"""Rewrite SingleStore DDL so that a MySQL-protocol stand-in (MariaDB) accepts it.

Only used when the server is not SingleStore, which in practice means the test suite's
MariaDB. The production DDL stays as written; these rewrites drop what MariaDB lacks
(shard and sort keys, vector indexes, table kinds) and store VECTOR columns as BLOBs of the
same little-endian float32 bytes.
"""

from __future__ import annotations

import re

_TABLE_KIND = re.compile(
    r"\bCREATE\s+(?:ROWSTORE\s+|COLUMNSTORE\s+)?(?:REFERENCE\s+)?TABLE\b", re.IGNORECASE
)
_VECTOR_TYPE = re.compile(r"\bVECTOR\s*\(\s*\d+\s*(?:,\s*[A-Z0-9]+\s*)?\)", re.IGNORECASE)
_DROPPED_CLAUSES = [
    re.compile(r"^\s*SHARD\s+KEY\b.*$", re.IGNORECASE),
    re.compile(r"^\s*SORT\s+KEY\b.*$", re.IGNORECASE),
    re.compile(r"^\s*VECTOR\s+INDEX\b.*$", re.IGNORECASE),
    re.compile(r"^\s*KEY\b.*\bUSING\s+CLUSTERED\s+COLUMNSTORE\b.*$", re.IGNORECASE),
]
_DANGLING_COMMA = re.compile(r",(\s*\n\s*\))")
_ALTER_VECTOR_INDEX = re.compile(r"^\s*ALTER\s+TABLE\s+\w+\s+ADD\s+VECTOR\s+INDEX\b", re.I)


def translate_ddl(statement: str) -> str | None:
    """The MariaDB form of one SingleStore statement, or None when it has no equivalent."""
    if _ALTER_VECTOR_INDEX.match(statement):
        return None
    statement = _TABLE_KIND.sub("CREATE TABLE", statement)
    statement = _VECTOR_TYPE.sub("BLOB", statement)
    lines = [
        line
        for line in statement.splitlines()
        if not any(pattern.match(line) for pattern in _DROPPED_CLAUSES)
    ]
    return _DANGLING_COMMA.sub(r"\1", "\n".join(lines))

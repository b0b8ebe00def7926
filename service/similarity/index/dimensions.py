"""SingleStore's VECTOR(n) columns follow the embedder's dimension.

Migration 0005 declares `VECTOR(580, F32)`, the default embedder's size. A model of another
size (EfficientNet-Lite0: 1280) cannot be stored beside it in the same column, so `reembed`
checks the declared size first; where it differs, `reembed --prune` drops the other models'
embeddings and makes the three embedding tables again with the new size (the analyst SQL
reads them by the same names and columns, so it runs unchanged). SQLite stores BLOBs, and
so does the MySQL stand-in the tests use: any size fits there and nothing is checked.

The resize is DDL, which SingleStore commits on its own (or refuses) inside a transaction, so
it runs in autocommit (`Database.autocommit`), one statement at a time, and is safe to run
again after a crash anywhere in it: each table is looked at afresh; one already made for the
new size is left alone, one of another size is dropped, and a missing one is created.
"""

from __future__ import annotations

import re

from service.db import Session

TABLES = ("product_embeddings", "snapshot_embeddings", "job_image_embeddings")
# table -> (DROP query, CREATE query): literal names, so a grep finds every user of a query
_DDL = {
    "product_embeddings": (
        "similarity_resize_drop_product_embeddings",
        "similarity_resize_create_product_embeddings",
    ),
    "snapshot_embeddings": (
        "similarity_resize_drop_snapshot_embeddings",
        "similarity_resize_create_snapshot_embeddings",
    ),
    "job_image_embeddings": (
        "similarity_resize_drop_job_image_embeddings",
        "similarity_resize_create_job_image_embeddings",
    ),
}
_VECTOR = re.compile(r"^\s*vector\s*\(\s*(\d+)", re.IGNORECASE)
MAX_DIMENSION = 16_000  # SingleStore's limit for a VECTOR column


class DimensionMismatch(RuntimeError):
    """The embedding columns are declared for another dimension than the embedder's."""


def declared(column_type: str) -> int | None:
    """The n of a `vector(n, F32)` column type; None for a type that takes any size."""
    found = _VECTOR.match(column_type or "")
    return int(found.group(1)) if found else None


def _column_types(session: Session) -> dict[str, str]:
    """The embedding column's declared type, per embedding table that exists."""
    return {
        str(row["table_name"]): str(row["column_type"])
        for row in session.fetch_all("similarity_vector_columns")
    }


def mismatched(session: Session, dialect: str, dimension: int) -> dict[str, int | None]:
    """Embedding tables not ready for `dimension`: {table: declared size}, or {table: None}
    for a table that is missing (a resize stopped between its DROP and its CREATE)."""
    if dialect != "singlestore":
        return {}
    found = _column_types(session)
    out: dict[str, int | None] = {}
    for table in TABLES:
        if table not in found:
            out[table] = None
        elif (size := declared(found[table])) is not None and size != dimension:
            out[table] = size
    return out


def resize(session: Session, dimension: int) -> None:
    """Make the (pruned) embedding tables again with VECTOR(dimension, F32) columns.

    Run it in autocommit: each DROP and CREATE commits on its own. Resumable: a table already
    made for `dimension` is skipped, so a rerun after a crash finishes the job."""
    if not 1 <= dimension <= MAX_DIMENSION:
        raise DimensionMismatch(f"a VECTOR column holds 1 to {MAX_DIMENSION} dimensions")
    for table in TABLES:
        drop, create = _DDL[table]
        column_type = _column_types(session).get(table)
        if column_type is not None:
            if declared(column_type) in (None, dimension):
                continue  # made already (or a type of any size: the MySQL stand-in)
            session.execute(drop)
        session.execute(create, {"dimension": int(dimension)})

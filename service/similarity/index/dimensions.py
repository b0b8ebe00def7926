"""SingleStore's VECTOR(n) columns follow the embedder's dimension.

Migration 0005 declares `VECTOR(580, F32)`, the default embedder's size. A model of another
size (EfficientNet-Lite0: 1280) cannot be stored beside it in the same column, so `reembed`
checks the declared size first; where it differs, `reembed --prune` drops the other models'
embeddings and makes the three embedding tables again with the new size (the analyst SQL
reads them by the same names and columns, so it runs unchanged). SQLite stores BLOBs, and
so does the MySQL stand-in the tests use: any size fits there and nothing is checked.
"""

from __future__ import annotations

import re

from service.db import Session

TABLES = ("product_embeddings", "snapshot_embeddings", "job_image_embeddings")
_VECTOR = re.compile(r"^\s*vector\s*\(\s*(\d+)", re.IGNORECASE)
MAX_DIMENSION = 16_000  # SingleStore's limit for a VECTOR column


class DimensionMismatch(RuntimeError):
    """The embedding columns are declared for another dimension than the embedder's."""


def declared(column_type: str) -> int | None:
    """The n of a `vector(n, F32)` column type; None for a type that takes any size."""
    found = _VECTOR.match(column_type or "")
    return int(found.group(1)) if found else None


def mismatched(session: Session, dialect: str, dimension: int) -> dict[str, int]:
    """Embedding tables whose VECTOR column is declared with another size: {table: n}."""
    if dialect != "singlestore":
        return {}
    out = {}
    for row in session.fetch_all("similarity_vector_columns"):
        size = declared(str(row["column_type"]))
        if size is not None and size != dimension:
            out[str(row["table_name"])] = size
    return out


def resize(session: Session, dimension: int) -> None:
    """Make the (pruned) embedding tables again with VECTOR(dimension, F32) columns."""
    if not 1 <= dimension <= MAX_DIMENSION:
        raise DimensionMismatch(f"a VECTOR column holds 1 to {MAX_DIMENSION} dimensions")
    for table in TABLES:
        session.execute(f"similarity_resize_drop_{table}")
        session.execute(f"similarity_resize_create_{table}", {"dimension": int(dimension)})

"""Every uploaded image is embedded as it is stored (the worker is off in these tests)."""

from __future__ import annotations

import sqlite3

import numpy as np
from litestar import Litestar
from litestar.testing import TestClient

from service.config import Settings
from service.db import sqlite_path
from tests.catalog.conftest import add_snapshot, create_product, image_bytes


def _vectors(settings: Settings, table: str, key: str, value: int) -> list[bytes]:
    with sqlite3.connect(sqlite_path(settings.database_url)) as connection:
        rows = connection.execute(
            f"SELECT embedding FROM {table} WHERE {key} = ?", (value,)
        ).fetchall()
    return [row[0] for row in rows]


def test_uploads_get_unit_length_embeddings_at_once(
    client: TestClient[Litestar], settings: Settings
) -> None:
    product = create_product(client, upc="12345670", image=image_bytes((64, 64))).json()
    snapshot = add_snapshot(client, "12345670", image=image_bytes((48, 40), "PNG")).json()

    for table, key, value in [
        ("product_embeddings", "product_id", product["id"]),
        ("snapshot_embeddings", "snapshot_id", snapshot["snapshot_id"]),
    ]:
        (blob,) = _vectors(settings, table, key, value)
        vector = np.frombuffer(blob, dtype="<f4")
        assert vector.size > 0
        assert abs(float(np.linalg.norm(vector)) - 1.0) < 1e-4

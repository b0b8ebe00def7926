"""Synthetic catalogs written straight into the tables, for tests and benchmarks.

Much faster than the API or the demo seeder: one tiny image per product, shared by all its
snapshots, and rows inserted in batches. Nothing here is used by the running service.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Callable

from PIL import Image

from service.clock import utcnow
from service.db import Engine
from service.storage import BlobStore

BATCH = 5000

# (status, votes_match, votes_mismatch) for the i-th snapshot
StateFn = Callable[[int], tuple[str, int, int]]


def tiny_png(seed: int) -> bytes:
    colour = random.Random(seed).randrange(0xFFFFFF)
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), (colour >> 16, (colour >> 8) & 255, colour & 255)).save(buffer, "PNG")
    return buffer.getvalue()


def _pending(_: int) -> tuple[str, int, int]:
    return ("pending", 0, 0)


def load_catalog(
    engine: Engine,
    blobs: BlobStore,
    *,
    products: int,
    snapshots: int,
    seed: int = 0,
    state: StateFn = _pending,
) -> list[int]:
    """Insert `products` products and `snapshots` snapshots spread over them round-robin;
    returns the new snapshot ids in insertion order."""
    rng = random.Random(seed)
    now = utcnow()
    images = [tiny_png(seed * 100_003 + i) for i in range(products)]
    keys = [blobs.put(data, "png", "image/png") for data in images]
    base_upc = 10_000_000 + seed * 1_000_000

    def insert_products(session):  # type: ignore[no-untyped-def]
        session.execute_many(
            "catalog_insert_product",
            [
                {"upc": str(base_upc + i), "name": f"Synthetic product {i}", "image_key": key,
                 "image_width": 8, "image_height": 8, "image_format": "PNG", "now": now}
                for i, key in enumerate(keys)
            ],
        )  # fmt: skip
        upcs = {str(base_upc + i) for i in range(products)}
        return [row["id"] for row in session.fetch_all("catalog_product_ids") if row["upc"] in upcs]

    product_ids = engine.write(insert_products)
    hashes = [hashlib.sha256(data).hexdigest() for data in images]
    rows = []
    for i in range(snapshots):
        p = i % products
        status, matches, mismatches = state(i)
        rows.append(
            {"product_id": product_ids[p], "image_key": keys[p], "image_width": 8,
             "image_height": 8, "image_format": "PNG", "content_hash": hashes[p],
             "source": f"synthetic/{i}", "status": status, "votes_match": matches,
             "votes_mismatch": mismatches, "rand_key": rng.random(), "now": now,
             "resolved_at": now if status != "pending" else None}
        )  # fmt: skip
    for start in range(0, len(rows), BATCH):
        chunk = rows[start : start + BATCH]
        engine.write(
            lambda session, chunk=chunk: session.execute_many("catalog_load_snapshot", chunk)
        )
    wanted = set(product_ids)
    return engine.read(
        lambda session: [
            row["id"] for row in session.fetch_all("catalog_snapshot_ids")
            if row["product_id"] in wanted
        ]
    )  # fmt: skip

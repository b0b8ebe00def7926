"""Scratch rows for the check, and a representative value for every query parameter."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np

from service.clock import utcnow
from service.db import Session
from service.similarity.index.vectors import pack

MODEL = "check:1"
OTHER_MODEL = "check:0"
DIMENSION = 580  # VECTOR(580, F32) in sql/singlestore/0005_embeddings.sql
NEIGHBOURS = 10


def _unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, DIMENSION)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class Fixture:
    """Rows the queries can find: a store, products and snapshots embedded with two models, a
    QA session. Ids come from the database (AUTO_INCREMENT). The other model's vectors equal
    this model's, so an index search that filtered by model after taking its k candidates
    would come back short."""

    def __init__(self) -> None:
        self.now = utcnow()
        self.vectors = _unit_vectors(3 * NEIGHBOURS, seed=1)
        self.product_id = 0  # the first product; the snapshots are attributed to it
        self.product_ids: list[int] = []
        self.snapshot_ids: list[int] = []
        self.session_id = 0

    def seed(self, session: Session) -> None:
        now = self.now
        session.execute("stores_upsert", {"store_id": "RP00001", "store_name": "Check store",
                                          "area_code": "7100015", "updated_at": now})  # fmt: skip
        image = {"image_key": "check", "image_width": 1, "image_height": 1, "image_format": "PNG"}
        for n, vector in enumerate(self.vectors):  # products 00000000, 00000001, ...
            name = "Check" if n == 0 else f"Check {n}"
            product = {"upc": f"{n:08d}", "name": name, **image, "now": now}
            product_id = session.execute("catalog_insert_product", product).lastrowid or 0
            self.product_ids.append(product_id)
            for model in (MODEL, OTHER_MODEL):
                session.execute(
                    "similarity_insert_product_embedding",
                    {"id": product_id, "model": model, "embedding": pack(vector), "now": now},
                )
        self.product_id = self.product_ids[0]
        for n, vector in enumerate(self.vectors):
            snapshot_id = session.execute(
                "catalog_insert_snapshot",
                {"product_id": self.product_id, **image, "content_hash": f"{n:064x}",
                 "source": None, "rand_key": n / len(self.vectors), "now": now},
            ).lastrowid or 0  # fmt: skip
            self.snapshot_ids.append(snapshot_id)
            for model in (MODEL, OTHER_MODEL):
                session.execute(
                    "similarity_insert_snapshot_embedding",
                    {"id": snapshot_id, "model": model, "embedding": pack(vector), "now": now},
                )
        session.execute("qa_ensure_user", {"username": "check", "now": now})
        self.session_id = (
            session.execute("qa_insert_session", {"username": "check", "now": now}).lastrowid or 0
        )

    def value(self, param: str) -> Any:
        """A representative value for a query parameter, by its name."""
        now = self.now
        known: dict[str, Any] = {
            "model": MODEL, "vector": pack(self.vectors[0]), "embedding": pack(self.vectors[1]),
            "exclude_id": self.snapshot_ids[0], "k": NEIGHBOURS, "fetch": NEIGHBOURS * 10,
            "search_options": '{"k": 100, "ef": 100}', "batch": 1000, "limit": 10,
            "product_id": self.product_id, "snapshot_id": self.snapshot_ids[0],
            "id": self.snapshot_ids[0], "session_id": self.session_id, "username": "check",
            "upc": "00000000", "name": "Check", "store_id": "RP00001", "store_name": "Check store",
            "area": "7100015", "area_code": "7100015", "status": "pending", "owner": "check",
            "start": 0.0, "end": date(2999, 1, 1), "ids": "[]", "url": "https://example.com/a.png",
            "content_hash": "0" * 64, "image_key": "check", "image_format": "PNG",
            "is_match": 1, "majority": 2, "population": len(self.vectors),
            "stale_before": now - timedelta(days=1), "cutoff": now - timedelta(days=1),
            "until": now + timedelta(minutes=1), "dimension": DIMENSION,
        }  # fmt: skip
        if param in known:
            return known[param]
        if param in {"now", "epoch"} or param.endswith(("_at", "_time", "_expires", "_before")):
            return now
        if param.endswith(("_share", "_ms", "suspicion", "rand_key")):
            return 0.5
        if param in {"error", "source", "blob_key", "content_type", "worker", "lease_owner"}:
            return "check"
        return 1  # ids, counts, sizes, positions, flags

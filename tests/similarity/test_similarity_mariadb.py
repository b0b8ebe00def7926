"""Similarity's non-vector SQL on the SingleStore dialect, with MariaDB standing in.

MariaDB has no DOT_PRODUCT (and no VECTOR type: mysql_compat stores VECTOR columns as BLOBs
of the same bytes), so the kNN queries themselves can only run on SQLite here; everything
around them (writes, catch-up, suspects, the QA picker) runs on both.
"""

from __future__ import annotations

import random
from datetime import datetime

import numpy as np
import pytest

from service.config import SQL_DIR, Settings
from service.db import Engine, create_engine, migrate
from service.qa.picking import PickRequest
from service.similarity.index import store
from service.similarity.index.state import Similarity
from service.similarity.qa_priority import suspects_picker
from service.similarity.ranking.suspects import suspect_ids, write_scores

pytestmark = pytest.mark.mariadb
NOW = datetime(2026, 11, 21, 10)


@pytest.fixture
def engine(mariadb_url: str):  # noqa: F811 - the fixture  # type: ignore[no-untyped-def]
    engine = create_engine(mariadb_url, SQL_DIR, pool_size=2)
    migrate(engine, SQL_DIR)
    yield engine
    engine.close()


def _catalog(engine: Engine) -> list[int]:
    def insert(session):  # type: ignore[no-untyped-def]
        session.execute(
            "catalog_insert_product",
            {"upc": "012345678905", "name": "Chips", "image_key": "k", "image_width": 1,
             "image_height": 1, "image_format": "PNG", "now": NOW},
        )  # fmt: skip
        ids = []
        for n in range(3):
            result = session.execute(
                "catalog_insert_snapshot",
                {"product_id": 1, "image_key": f"s{n}", "image_width": 1, "image_height": 1,
                 "image_format": "PNG", "content_hash": f"{n:064d}", "source": None,
                 "rand_key": n / 3, "now": NOW},
            )  # fmt: skip
            ids.append(result.lastrowid)
        return ids

    return engine.write(insert)


def test_embeddings_write_read_and_catch_up_on_the_singlestore_dialect(engine: Engine) -> None:
    similarity = Similarity.create(Settings(), "singlestore")
    snapshot_ids = _catalog(engine)
    vector = np.linspace(-1, 1, similarity.embedder.dimension, dtype=np.float32)
    vector /= np.linalg.norm(vector)
    key = {"id": snapshot_ids[0]}
    model = similarity.model

    def save(v):  # type: ignore[no-untyped-def]
        return engine.write(
            lambda s: store.save_embedding(s, "singlestore", "snapshot", key, model, v)
        )

    assert save(vector)
    assert not save(-vector)  # the second write updates
    stored = engine.read(lambda s: store.stored_vector(s, "snapshot", key["id"], model))
    np.testing.assert_array_equal(stored, -vector)
    missing = engine.read(
        lambda s: s.fetch_all(
            "similarity_snapshots_missing", {"model": similarity.model, "limit": 10}
        )
    )
    assert [row["id"] for row in missing] == snapshot_ids[1:]
    assert (
        engine.read(
            lambda s: s.fetch_value(
                "similarity_count_job_images_missing", {"model": model, "per_mille": 1000}
            )
        )
        == 0
    )


def test_suspects_and_the_qa_picker_on_the_singlestore_dialect(engine: Engine) -> None:
    model = "pack-features:1"  # no projection fitted: the raw model is the one scored
    snapshot_ids = _catalog(engine)
    scores = [
        {"snapshot_id": sid, "model": model, "product_id": 1, "suggested_product_id": None,
         "suspicion": score, "own_share": 0.5, "suggested_share": 0.5, "population": 3,
         "now": NOW}
        for sid, score in zip(snapshot_ids, [0.1, 0.9, -0.5], strict=True)
    ]  # fmt: skip
    engine.write(lambda s: write_scores(s, scores))
    engine.write(lambda s: write_scores(s, scores[:1]))  # rescoring replaces the row
    ranked = engine.read(lambda s: suspect_ids(s, model, 10))
    assert ranked == [snapshot_ids[1], snapshot_ids[0], snapshot_ids[2]]
    pick = suspects_picker(model)
    request = PickRequest("ann", majority=2, limit=2, rng=random.Random(1))
    picked = engine.read(lambda s: pick(s, request))
    assert [row["id"] for row in picked] == ranked[:2]


# Not here: the kNN SQL itself. MariaDB (the SingleStore stand-in) has no DOT_PRODUCT or
# VECTOR type, so that SQL runs in the SQLite tests (test_vector_matrix.py), where the
# functions have SingleStore's semantics.

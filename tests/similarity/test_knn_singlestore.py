"""Nearest neighbours on the SingleStore dialect: exact search returns k rows, and on a large
SingleStore table the vector index is used with over-fetch, falling back to exact search.

The kNN SQL runs on MariaDB (with a stored DOT_PRODUCT of SingleStore's semantics) as the
SingleStore dialect writes it, filters before the top k (less the ORDER BY's vector-index
hint, which MariaDB lacks: `mysql_compat.translate_query`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np
import pytest

from service.config import SQL_DIR, Settings
from service.db import Engine, Session, create_engine, migrate
from service.similarity.index import knn
from service.similarity.index.state import Similarity
from service.similarity.index.vectors import pack
from tests.mariadb import MariaDBServer, install_dot_product

NOW = datetime(2026, 11, 21, 10)
SNAPSHOTS = 16


@pytest.fixture
def engine(mariadb_server: MariaDBServer, mariadb_url: str):  # type: ignore[no-untyped-def]
    install_dot_product(mariadb_server, mariadb_url.rsplit("/", 1)[1])
    engine = create_engine(mariadb_url, SQL_DIR, pool_size=2)
    migrate(engine, SQL_DIR)
    yield engine
    engine.close()


def _unit(rng: np.random.Generator, dimension: int) -> np.ndarray:
    vector = rng.normal(size=dimension).astype(np.float32)
    return vector / np.linalg.norm(vector)


def _catalog(engine: Engine, similarity: Similarity) -> dict[int, np.ndarray]:
    """One product, SNAPSHOTS snapshots embedded with the current model, and every snapshot
    embedded with another model too (as while `reembed` runs)."""
    rng = np.random.default_rng(7)
    dimension = similarity.embedder.dimension

    def insert(session: Session) -> dict[int, np.ndarray]:
        session.execute(
            "catalog_insert_product",
            {"upc": "012345678905", "name": "Chips", "image_key": "k", "image_width": 1,
             "image_height": 1, "image_format": "PNG", "now": NOW},
        )  # fmt: skip
        vectors = {}
        for n in range(SNAPSHOTS):
            snapshot_id = session.execute(
                "catalog_insert_snapshot",
                {"product_id": 1, "image_key": f"s{n}", "image_width": 1, "image_height": 1,
                 "image_format": "PNG", "content_hash": f"{n:064d}", "source": None,
                 "rand_key": n / SNAPSHOTS, "now": NOW},
            ).lastrowid  # fmt: skip
            vectors[snapshot_id] = _unit(rng, dimension)
            for model, vector in ((similarity.model, vectors[snapshot_id]), ("other:1", None)):
                session.execute(
                    "similarity_insert_snapshot_embedding",
                    {"id": snapshot_id, "model": model, "now": NOW,
                     "embedding": pack(vector if vector is not None else _unit(rng, dimension))},
                )  # fmt: skip
        return vectors

    return engine.write(insert)


@pytest.mark.mariadb
def test_exact_search_returns_k_rows_of_the_model_without_the_query_itself(
    engine: Engine,
) -> None:
    similarity = Similarity.create(Settings(), "singlestore")
    vectors = _catalog(engine, similarity)
    query_id = next(iter(vectors))
    k = 10

    rows = engine.read(
        lambda session: knn.nearest(
            similarity,
            session,
            "snapshot",
            similarity.model,
            vectors[query_id][None, :],
            k,
            [query_id],
        )[0]
    )

    others = [i for i in vectors if i != query_id]
    scores = {i: float(np.dot(vectors[i], vectors[query_id])) for i in others}
    expected = sorted(others, key=lambda i: -scores[i])[:k]
    assert [row["snapshot_id"] for row in rows] == expected
    # float32 products summed in double (the stored function) against numpy's float32 dot
    expected_scores = [scores[i] for i in expected]
    assert [row["score"] for row in rows] == pytest.approx(expected_scores, abs=1e-6)


class RecordingSession:
    """Answers the count and the two searches; records which queries ran."""

    def __init__(self, is_singlestore: bool, population: int, ann_rows: int) -> None:
        self.is_singlestore = is_singlestore
        self.population, self.ann_rows = population, ann_rows
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def fetch_value(self, name: str, params: dict[str, Any]) -> int:
        self.calls.append((name, params))
        return self.population

    def fetch_all(self, name: str, params: dict[str, Any]) -> list[dict[str, Any]]:
        self.calls.append((name, params))
        n = self.ann_rows if name.endswith("_ann") else params["k"]
        return [{"snapshot_id": i, "score": 1.0} for i in range(n)]

    def searches(self) -> list[str]:
        return [name for name, _ in self.calls if name.startswith("similarity_nearest")]


def _search(session: RecordingSession, k: int = 10) -> list[dict[str, Any]]:
    similarity = Similarity.create(Settings(), "singlestore")
    vector = np.zeros((1, similarity.embedder.dimension), dtype=np.float32)
    return knn.nearest(similarity, session, "snapshot", "m:1", vector, k, [5])[0]  # type: ignore[arg-type]


def test_a_small_table_is_searched_exactly() -> None:
    session = RecordingSession(True, knn.EXACT_MAX_ROWS, ann_rows=10)
    assert len(_search(session)) == 10
    assert session.searches() == ["similarity_nearest_snapshots"]


def test_a_large_singlestore_table_is_searched_through_the_index_with_over_fetch() -> None:
    session = RecordingSession(True, knn.EXACT_MAX_ROWS + 1, ann_rows=10)
    assert len(_search(session)) == 10
    assert session.searches() == ["similarity_nearest_snapshots_ann"]
    params = dict(session.calls)["similarity_nearest_snapshots_ann"]
    assert params["fetch"] == 10 * knn.OVERFETCH
    assert params["search_options"] == '{"k": 100, "ef": 100}'
    assert params["exclude_id"] == 5 and params["k"] == 10


def test_too_few_index_candidates_of_the_model_fall_back_to_exact_search() -> None:
    session = RecordingSession(True, knn.EXACT_MAX_ROWS + 1, ann_rows=7)
    assert len(_search(session)) == 10
    assert session.searches() == [
        "similarity_nearest_snapshots_ann",
        "similarity_nearest_snapshots",
    ]


def test_other_servers_never_use_the_index_query() -> None:
    session = RecordingSession(False, knn.EXACT_MAX_ROWS * 10, ann_rows=10)
    _search(session)
    assert session.searches() == ["similarity_nearest_snapshots"]


def test_the_index_query_filters_outside_the_indexed_subquery() -> None:
    from service.db import Queries

    sql = Queries(SQL_DIR, "singlestore")["similarity_nearest_snapshots_ann"].sql
    indexed = sql[sql.index("SELECT e.snapshot_id") : sql.index(") c")]
    assert "SEARCH_OPTIONS" in indexed and "WHERE" not in indexed
    outside = sql[sql.index(") c") :]
    assert "`model` = :model" in outside and "<> :exclude_id" in outside


@pytest.mark.mariadb
def test_prune_deletes_other_models_in_batches(engine: Engine) -> None:
    import asyncio

    from service.db import Database
    from service.similarity.background.reembed import prune_other_models

    similarity = Similarity.create(Settings(), "singlestore")
    _catalog(engine, similarity)  # SNAPSHOTS rows of each model
    statements: list[str] = []
    db = Database(engine, threads=1)
    original = engine.write

    def counting_write(fn):  # type: ignore[no-untyped-def]
        statements.append("transaction")
        return original(fn)

    engine.write = counting_write  # type: ignore[method-assign]
    try:
        deleted = asyncio.run(prune_other_models(db, similarity, batch=5))
    finally:
        engine.write = original  # type: ignore[method-assign]
    assert deleted == SNAPSHOTS
    # 16 snapshot rows in batches of 5: 4 deletes, then one each for 3 empty tables, then the
    # matrix note: each its own transaction.
    assert len(statements) == 4 + 3 + 1
    models = engine.read(lambda s: s.raw("SELECT DISTINCT `model` AS m FROM snapshot_embeddings"))
    assert models == [{"m": similarity.model}]
    db.close()  # closes the engine too (the fixture's close is then a no-op)

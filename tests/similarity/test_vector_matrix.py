"""The embedded engine's in-process matrix: exact top-k, kept in step with the table, and the
same answers as the shared DOT_PRODUCT SQL."""

from __future__ import annotations

import json

import numpy as np
import pytest

from service.catalog import demo, store
from service.config import Settings
from service.services import Services
from service.similarity import hooks
from service.similarity.index import knn
from service.similarity.index.matrix import View, top_k
from service.similarity.index.state import current_for, similarity_for
from service.similarity.index.store import save_embedding
from service.similarity.index.vectors import pack, stack, unpack
from tests.similarity.conftest import run


def unit_rows(n: int, d: int, seed: int) -> np.ndarray:
    rows = np.random.default_rng(seed).normal(size=(n, d)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_top_k_is_exact_skips_the_excluded_id_and_breaks_ties_by_id() -> None:
    vectors = unit_rows(500, 16, seed=1)
    vectors[7] = vectors[3]  # a tie: ids 103 and 107
    view = View(np.arange(100, 600, dtype=np.int64), vectors)
    queries = unit_rows(4, 16, seed=2)
    queries[0] = vectors[3]
    found = top_k(view, queries, k=5, exclude=[None, 100 + int(np.argmax(vectors @ queries[1])),
                                               None, None])  # fmt: skip
    for row, hits in enumerate(found):
        scores = vectors @ queries[row]
        expected = [100 + i for i in np.argsort(-scores, kind="stable")]
        if row == 1:
            expected = expected[1:]
        assert [id_ for id_, _ in hits] == expected[:5]
        assert [s for _, s in hits] == pytest.approx(sorted(scores, reverse=True)[row == 1 :][:5])
    assert [id_ for id_, _ in found[0][:2]] == [103, 107]
    assert top_k(View(np.empty(0, np.int64), np.empty((0, 16), np.float32)), queries, 3) == [
        [], [], [], []
    ]  # fmt: skip


def test_matrix_reads_appends_incrementally_and_reloads_after_a_rewrite(
    demo_settings: Settings,
) -> None:
    async def scenario(services: Services) -> None:
        similarity = similarity_for(services)
        current = await current_for(services)
        matrix = similarity.matrix("snapshot", current.model)
        assert matrix is not None
        first = await services.db.read(matrix.current)
        assert (first.size, matrix.reloads) == (240, 1)

        pack = demo.pack_image(demo.products(1)[0])
        added = await store.add_snapshot(services, product_id=1, image=demo.png(pack))  # embeds
        # the catch-up embedding the same image again writes nothing, so nothing reloads
        assert await hooks.embed_snapshot(services, added.snapshot_id, demo.png(pack))
        grown = await services.db.read(matrix.current)
        assert grown.size == 241 and matrix.reloads == 1  # read incrementally
        assert int(grown.ids[-1]) == added.snapshot_id
        assert first.size == 240  # a view handed out earlier does not change under its reader

        changed = -grown.vectors[0]
        await services.db.transaction(
            lambda s: save_embedding(
                s, similarity.dialect, "snapshot", {"id": int(grown.ids[0])}, current.model, changed
            )
        )
        reloaded = await services.db.read(matrix.current)
        assert matrix.reloads == 2 and reloaded.size == 241
        row = int(np.flatnonzero(reloaded.ids == grown.ids[0])[0])
        np.testing.assert_array_equal(reloaded.vectors[row], changed)

    run(demo_settings, scenario)


@pytest.mark.parametrize("kind", ["snapshot", "product"])
def test_matrix_path_answers_like_the_shared_sql(demo_settings: Settings, kind: str) -> None:
    async def both(services: Services) -> tuple[list, list]:
        similarity = similarity_for(services)
        current = await current_for(services)
        matrix = similarity.matrix("snapshot", current.model)
        assert matrix is not None
        queries = (await services.db.read(matrix.current)).vectors[:6]
        exclude = [1, None, 3, None, 5, None]

        def search(session, threshold: int):  # type: ignore[no-untyped-def]
            similarity.matrix_min_rows = threshold
            return knn.nearest(similarity, session, kind, current.model, queries, 7, exclude)

        in_sql = await services.db.read(lambda s: search(s, 10**9))
        in_memory = await services.db.read(lambda s: search(s, 0))
        return in_sql, in_memory

    in_sql, in_memory = run(demo_settings, both)
    id_column = f"{kind}_id"
    for sql_rows, matrix_rows in zip(in_sql, in_memory, strict=True):
        assert len(sql_rows) == 7
        assert [r[id_column] for r in sql_rows] == [r[id_column] for r in matrix_rows]
        assert [r["score"] for r in sql_rows] == pytest.approx([r["score"] for r in matrix_rows])
        assert {k for k in sql_rows[0]} == {k for k in matrix_rows[0]}
    if kind == "snapshot":
        assert all(row["snapshot_id"] != 1 for row in in_sql[0])  # excluded


def test_stored_vectors_read_back_from_every_form_a_driver_returns() -> None:
    vector = np.array([0.6, -0.8, 0.0], dtype=np.float32)
    for stored in (pack(vector), json.dumps([0.6, -0.8, 0.0]), [0.6, -0.8, 0.0]):
        np.testing.assert_array_equal(unpack(stored), vector)  # bytes, JSON, parsed
    np.testing.assert_array_equal(stack([pack(vector), "[0.6, -0.8, 0.0]"], 3), [vector, vector])
    assert pack(vector) == vector.astype("<f4").tobytes()  # what SQLite's DOT_PRODUCT reads

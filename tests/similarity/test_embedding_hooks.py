"""The hooks other features call, and the background component that catches up on images
stored without an embedding."""

from __future__ import annotations

from datetime import datetime

import pytest

from service.catalog import demo, store
from service.catalog import hooks as catalog_hooks
from service.config import Settings
from service.services import Services
from service.similarity import hooks
from service.similarity.background.catchup import count_missing, embed_missing
from service.similarity.background.worker import Rounds, run_round, similarity_component
from service.similarity.connect import connect
from service.similarity.index.state import current_for
from tests.similarity.conftest import add_job_image, run


@pytest.fixture(autouse=True)
def uploads_without_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nobody listens to the catalog here (an app started by an earlier test may have
    registered similarity), so these tests start from images stored without an embedding,
    as after a failed hook."""
    for listeners in ("_product_stored", "_snapshot_stored", "_snapshot_relabelled"):
        monkeypatch.setattr(catalog_hooks, listeners, {})


def photo(index: int, seed: int = 3) -> bytes:
    packs = [demo.pack_image(p) for p in demo.products(index + 1)]
    return demo.render(demo.DemoSnapshot(index, index, 0), packs, seed=seed)


async def counts(services: Services, snapshot_id: int) -> tuple[int, int]:
    model = (await current_for(services)).model
    embedded = await services.db.fetch_value(
        "similarity_snapshot_embedding", {"snapshot_id": snapshot_id, "model": model}
    )
    suspects = await services.db.fetch_all(
        "similarity_suspects", {"model": model, "status": "", "limit": 10_000}
    )
    return int(embedded is not None), sum(r["snapshot_id"] == snapshot_id for r in suspects)


def test_hooks_store_embeddings_and_score_the_snapshot(demo_settings: Settings) -> None:
    async def scenario(services: Services) -> None:
        added = await store.add_snapshot(services, product_id=3, image=photo(2))
        assert await counts(services, added.snapshot_id) == (0, 0)
        assert await hooks.embed_snapshot(services, added.snapshot_id, photo(2))
        assert await counts(services, added.snapshot_id) == (1, 1)
        # a second call replaces the embedding rather than failing on the key
        assert await hooks.embed_snapshot(services, added.snapshot_id, photo(2, seed=4))

        pack = demo.png(demo.pack_image(demo.products(1)[0]))
        assert await hooks.embed_product(services, 1, pack)
        # store-visit images are embedded by the catch-up alone (never on the jobs' path)
        await add_job_image(services, 77, photo(5))
        assert await count_missing(services, "job_image") == 1
        assert (await embed_missing(services, "job_image")).embedded == 1
        assert await count_missing(services, "job_image") == 0

    run(demo_settings, scenario)


def test_an_upload_is_embedded_and_scored_once_similarity_is_connected(
    demo_settings: Settings,
) -> None:
    async def scenario(services: Services) -> None:
        before = await store.add_snapshot(services, product_id=3, image=photo(2))
        assert await counts(services, before.snapshot_id) == (0, 0)
        connect(services)
        after = await store.add_snapshot(services, product_id=3, image=photo(4))
        assert await counts(services, after.snapshot_id) == (1, 1)

    run(demo_settings, scenario)


def test_hooks_never_raise_for_an_image_they_cannot_use(demo_settings: Settings) -> None:
    async def scenario(services: Services) -> None:
        added = await store.add_snapshot(services, product_id=1, image=photo(0))
        assert not await hooks.embed_snapshot(services, added.snapshot_id, b"not an image")
        assert await counts(services, added.snapshot_id) == (0, 0)
        assert not await hooks.embed_product(services, 1, b"")

    run(demo_settings, scenario)


def test_background_round_embeds_what_was_stored_without_hooks(demo_settings: Settings) -> None:
    async def scenario(services: Services) -> None:
        product = await store.create_product(
            services, upc="00000000000024", name="Late", image=photo(6)
        )
        added = await store.add_snapshot(services, product_id=product["id"], image=photo(6, 8))
        await add_job_image(services, 5, photo(7))
        assert [await count_missing(services, k) for k in ("product", "snapshot", "job_image")] == [
            1, 1, 1
        ]  # fmt: skip
        async with similarity_component(services):  # worker disabled here: rounds by hand
            rounds = Rounds()
            assert await run_round(services, rounds) >= 4  # 3 images and 1 score
            assert await run_round(services, rounds) == 0
        assert [await count_missing(services, k) for k in ("product", "snapshot", "job_image")] == [
            0, 0, 0
        ]  # fmt: skip
        assert await counts(services, added.snapshot_id) == (1, 1)

    run(demo_settings, scenario)


def test_catch_up_finds_work_by_what_is_missing_not_by_id_order(demo_settings: Settings) -> None:
    """SingleStore ids are unique, not monotonic: a row still missing an embedding may have a
    lower id than rows already done. It is found anyway, and a broken image does not stop
    the others."""

    async def scenario(services: Services) -> None:
        first = await store.add_snapshot(services, product_id=1, image=photo(0, 11))
        await store.add_snapshot(services, product_id=2, image=photo(1, 12))
        await services.db.execute(
            "catalog_insert_snapshot",
            {"product_id": 3, "image_key": "no-such-blob", "image_width": 1, "image_height": 1,
             "image_format": "PNG", "content_hash": "0" * 64, "source": None, "rand_key": 0.5,
             "now": datetime(2026, 11, 21)},
        )  # fmt: skip
        skip: set = set()
        progress = await embed_missing(services, "snapshot", skip, limit=1)
        assert progress.more and progress.embedded + progress.failed == 1
        # Meanwhile a row with a lower id than any of these turns up without an embedding.
        assert first.snapshot_id > 1
        await services.db.transaction(
            lambda s: s.raw("DELETE FROM snapshot_embeddings WHERE snapshot_id = :id", {"id": 1})
        )
        embedded, failed = progress.embedded, progress.failed
        while (progress := await embed_missing(services, "snapshot", skip, limit=1)).more:
            embedded, failed = embedded + progress.embedded, failed + progress.failed
        assert (embedded, failed) == (3, 1)
        assert await count_missing(services, "snapshot") == 1  # only the broken one
        assert await counts(services, 1) == (1, 1)

    run(demo_settings, scenario)

"""`python -m service reembed`: a new model's rows beside the old, resumable, prunable."""

from __future__ import annotations

import io

import pytest

from service.__main__ import main
from service.config import Settings
from service.services import Services
from service.similarity.background.catchup import embed_missing
from service.similarity.background.reembed import reembed
from service.similarity.embedding.embedders import PackFeatures
from service.similarity.index.state import similarity_for
from tests.similarity.conftest import DEMO_PER_PRODUCT, DEMO_PRODUCTS, run
from tests.test_progress import Terminal

SNAPSHOTS = DEMO_PRODUCTS * DEMO_PER_PRODUCT


def rows_per_model(services: Services, table: str):  # type: ignore[no-untyped-def]
    def read(session):  # type: ignore[no-untyped-def]
        rows = session.raw(f"SELECT model, COUNT(*) AS n FROM {table} GROUP BY model")
        return {row["model"]: row["n"] for row in rows}

    return services.db.read(read)


def test_reembed_a_new_model_resumes_then_prunes(
    demo_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(PackFeatures, "version", "2")

    async def scenario(services: Services) -> None:
        assert similarity_for(services).model == "pack-features:2"
        # an earlier run stopped after one batch
        first = await embed_missing(services, "snapshot", limit=50)
        assert first.embedded == 50 and first.more
        out = Terminal()
        counts = await reembed(services, batch=32, out=out)
        assert counts["snapshot_embedded"] == SNAPSHOTS - 50
        assert counts["product_embedded"] == DEMO_PRODUCTS
        assert counts["scored"] == SNAPSHOTS
        progress = out.getvalue()
        assert "snapshots" in progress and f"{SNAPSHOTS - 50}/{SNAPSHOTS - 50}" in progress
        assert await rows_per_model(services, "snapshot_embeddings") == {
            "pack-features:1": SNAPSHOTS, "pack-features:2": SNAPSHOTS
        }  # fmt: skip
        again = await reembed(services, out=io.StringIO())
        assert again["snapshot_embedded"] == again["scored"] == 0  # nothing left to do

        await reembed(services, prune=True, out=io.StringIO())
        for table in ("snapshot_embeddings", "product_embeddings", "snapshot_suspicion"):
            assert set(await rows_per_model(services, table)) == {"pack-features:2"}
        matrix = similarity_for(services).matrices["snapshot"]
        assert (await services.db.read(matrix.current)).size == SNAPSHOTS

    run(demo_settings, scenario)


def test_reembed_command(
    demo_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setattr(PackFeatures, "version", "3")
    monkeypatch.setenv("DATABASE_URL", demo_settings.database_url)
    monkeypatch.setenv("STORAGE_URL", demo_settings.storage_url)
    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert main(["reembed", "--batch", "100"]) == 0
    err = capsys.readouterr().err
    assert "model pack-features:3 (580 dimensions)" in err
    assert f"suspicion scored for {SNAPSHOTS}" in err
    assert f"{SNAPSHOTS}/{SNAPSHOTS}" not in err  # no bar: stderr is not a terminal here

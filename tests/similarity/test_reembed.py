"""`python -m service reembed`: a new model's rows beside the old, resumable, prunable."""

from __future__ import annotations

import io

import msgspec
import pytest

from service.__main__ import main
from service.config import Settings
from service.services import Services
from service.similarity.background.catchup import embed_missing
from service.similarity.background.reembed import reembed
from service.similarity.index.state import current_for, similarity_for
from tests.similarity.conftest import DEMO_PER_PRODUCT, DEMO_PRODUCTS, run
from tests.test_progress import Terminal

SNAPSHOTS = DEMO_PRODUCTS * DEMO_PER_PRODUCT
OLD = "efficientnet-lite0:2.1"  # what the demo fixture was embedded with (the default)
NEW = "pack-features:1"


def rows_per_model(services: Services, table: str):  # type: ignore[no-untyped-def]
    def read(session):  # type: ignore[no-untyped-def]
        rows = session.raw(f"SELECT `model`, COUNT(*) AS n FROM {table} GROUP BY `model`")
        return {row["model"]: row["n"] for row in rows}

    return services.db.read(read)


def test_reembed_a_new_model_resumes_fits_then_prunes(demo_settings: Settings) -> None:
    settings = msgspec.structs.replace(demo_settings, embedder="pack-features")

    async def scenario(services: Services) -> None:
        assert similarity_for(services).raw_model == NEW
        # an earlier run stopped after one batch
        first = await embed_missing(services, "snapshot", limit=50)
        assert first.embedded == 50 and first.more
        out = Terminal()
        counts = await reembed(services, batch=32, out=out)
        assert counts["snapshot_embedded"] == SNAPSHOTS - 50
        assert counts["product_embedded"] == DEMO_PRODUCTS
        assert counts["scored"] == 0  # scored while the new projection was built
        progress = out.getvalue()
        assert "snapshots" in progress and f"{SNAPSHOTS - 50}/{SNAPSHOTS - 50}" in progress
        assert "projection fitted: pack-features:1+p1" in progress
        assert await rows_per_model(services, "snapshot_embeddings") == {
            OLD: SNAPSHOTS, f"{OLD}+p1": SNAPSHOTS, NEW: SNAPSHOTS, f"{NEW}+p1": SNAPSHOTS
        }  # fmt: skip
        again = await reembed(services, out=io.StringIO())
        assert again["snapshot_embedded"] == again["scored"] == 0  # nothing left to do

        await reembed(services, prune=True, out=io.StringIO())
        for table in ("snapshot_embeddings", "product_embeddings"):
            assert set(await rows_per_model(services, table)) == {NEW, f"{NEW}+p1"}
        assert set(await rows_per_model(services, "snapshot_suspicion")) == {f"{NEW}+p1"}
        current = await current_for(services)
        matrix = similarity_for(services).matrix("snapshot", current.model)
        assert matrix is not None
        assert (await services.db.read(matrix.current)).size == SNAPSHOTS

    run(settings, scenario)


def test_reembed_command(
    demo_settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("DATABASE_URL", demo_settings.database_url)
    monkeypatch.setenv("STORAGE_URL", demo_settings.storage_url)
    monkeypatch.setenv("LOG_LEVEL", "warning")
    monkeypatch.setenv("EMBEDDER", "pack-features")
    assert main(["reembed", "--batch", "100"]) == 0
    err = capsys.readouterr().err
    assert f"model {NEW} (580 dimensions)" in err
    assert f"projection fitted: {NEW}+p1" in err
    assert f"{SNAPSHOTS}/{SNAPSHOTS}" not in err  # no bar: stderr is not a terminal here

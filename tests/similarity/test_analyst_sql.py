"""`sql/analyst/*.sql` run unchanged in `python -m service sql` (SQLite here) and answer."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from service.config import SQL_DIR, Settings
from service.db import create_engine
from service.services import Services
from service.similarity.background.catchup import embed_missing
from service.sqlshell import shell
from tests.similarity.conftest import add_job_image, run

ANALYST = sorted((SQL_DIR / "analyst").glob("*.sql"))


def test_there_are_examples_for_each_question() -> None:
    names = {path.stem for path in ANALYST}
    assert {"similar_snapshots", "product_neighbours", "suspects", "product_spread"} <= names


@pytest.mark.parametrize("path", ANALYST, ids=lambda p: p.stem)
def test_analyst_query_runs_in_the_sql_shell(demo_settings: Settings, path: Path) -> None:
    async def with_a_job_image(services: Services) -> None:
        image = (Path(demo_settings.storage_url.removeprefix("file://"))).rglob("*.jpg")
        data = next(image).read_bytes()
        await add_job_image(services, 1, data)
        assert (await embed_missing(services, "job_image")).embedded == 1

    run(demo_settings, with_a_job_image)
    engine = create_engine(demo_settings.database_url, SQL_DIR)
    out = io.StringIO()
    try:
        status = shell(engine, io.StringIO(path.read_text()), out)
    finally:
        engine.close()
    text = out.getvalue()
    assert status == 0, text
    assert "error" not in text
    assert "(0 rows)" not in text and " row" in text  # a table with at least one row

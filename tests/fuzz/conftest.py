"""The fuzzed app: a temp SQLite database holding a little of everything, so that generated
ids (small integers) and the seeded UPCs hit real rows as well as missing ones."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.catalog.synthetic import load_catalog
from service.config import SQL_DIR, Settings
from service.db import create_engine
from service.storage import create_blob_store
from tests.conftest import make_app, make_settings
from tests.jobs.conftest import ImageServer, load_test_stores, visit


def fuzz_settings(root: Path) -> Settings:
    return make_settings(root, log_level="error", qa_session_size=3)


def _seed(settings: Settings) -> None:
    """Stores RP00001-3, 2 products with 6 snapshots, one settled job (done and failed
    images) made by a real worker run, so job reports carry every kind of field, and one
    completed QA session."""
    engine = create_engine(settings.database_url, SQL_DIR)
    blobs = create_blob_store(settings.storage_url)
    try:
        load_catalog(engine, blobs, products=2, snapshots=6, seed=1)
    finally:
        engine.close()
        blobs.close()
    images = ImageServer()
    try:
        app = make_app(settings, worker_enabled=True)
        with TestClient(app=app, raise_server_exceptions=False) as client:
            client.blocking_portal.call(load_test_stores, client)
            body = {
                "count": 2,
                "visits": [
                    visit("RP00001", images.url("/img/40x30.png"), images.url("/status/404")),
                    visit("RP00002", images.url("/img/20x20.jpg")),
                ],
            }
            created = client.post("/api/submit", json=body)
            assert created.status_code == 201, created.text
            job_id = created.json()["job_id"]
            deadline = time.monotonic() + 20
            while client.get(f"/api/status?jobid={job_id}").json()["status"] == "ongoing":
                assert time.monotonic() < deadline, "the seed job did not settle"
                time.sleep(0.05)
            # a completed QA session: the leaderboard and the export have rows to show
            qa = {"username": "seed-qa"}
            session = client.post("/qa/session", headers=qa).json()
            for item in session["snapshots"]:
                answer = client.patch(
                    f"/qa/session/{session['session_id']}/snapshot/{item['snapshot_id']}",
                    json={"is_match": item["snapshot_id"] % 2 == 1},
                    headers=qa,
                )
                assert answer.status_code == 200, answer.text
    finally:
        images.close()


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Litestar]:
    settings = fuzz_settings(tmp_path_factory.mktemp("fuzz"))
    make_app(settings)  # migrates
    _seed(settings)
    yield make_app(settings)

"""The job report's timings: mean per-image stage times over the settled images, null until
an image has settled (clients chart where a job's time went from them)."""

from __future__ import annotations

from litestar.testing import TestClient

from service.config import SQL_DIR, Settings
from service.db import create_engine
from tests.jobs.conftest import (
    ImageServer,
    load_test_stores,
    running_client,
    submit,
    visit,
    wait_settled,
)

STAGES = ("download", "decode", "delay", "store")
DELAY = 0.02  # seconds: the simulated GPU step, so its mean has a floor


def _stored_means(settings: Settings, job_id: int) -> dict[str, float]:
    engine = create_engine(settings.database_url, SQL_DIR)
    try:
        rows = engine.read(
            lambda session: session.raw(
                "SELECT download_ms, decode_ms, delay_ms, store_ms FROM image_results "
                "WHERE job_id = :job_id",  # SQLite's parameter style (settings: SQLite)
                {"job_id": job_id},
            )
        )
    finally:
        engine.close()
    return {
        stage: round(sum(float(r[f"{stage}_ms"]) for r in rows) / len(rows), 3) for stage in STAGES
    }


def test_the_report_gives_mean_stage_times_of_the_settled_images(
    settings: Settings, image_server: ImageServer
) -> None:
    urls = [image_server.url(f"/img/{w}x{h}.png") for w, h in [(10, 20), (30, 40), (64, 64)]]
    with running_client(settings, processing_delay=(DELAY, DELAY)) as client:
        client.blocking_portal.call(load_test_stores, client)
        job_id = submit(client, visit("RP00001", *urls))
        assert wait_settled(client, job_id)["status"] == "completed"
        timings = client.get(f"/api/jobs/{job_id}").json()["timings"]

    assert timings["mean_delay_ms"] >= DELAY * 1000 * 0.95  # a sleep is never much shorter
    assert {stage: timings[f"mean_{stage}_ms"] for stage in STAGES} == _stored_means(
        settings, job_id
    )
    assert timings["elapsed_seconds"] is not None
    assert timings["first_started_at"] <= timings["last_finished_at"]


def test_a_job_nothing_has_settled_of_has_no_means(settings: Settings) -> None:
    with TestClient(app=running_client(settings, worker_enabled=False).app) as client:
        client.blocking_portal.call(load_test_stores, client)
        job_id = submit(client, visit("RP00001", "http://127.0.0.1:9/a.png"))
        timings = client.get(f"/api/jobs/{job_id}").json()["timings"]
    assert {timings[f"mean_{stage}_ms"] for stage in STAGES} == {None}
    assert timings["first_started_at"] is None
    assert timings["elapsed_seconds"] is None

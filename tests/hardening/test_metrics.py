"""GET /metrics: request latency by route template; jobs, images, queue and QA counted from the
database at scrape time (so any process reports the same)."""

from __future__ import annotations

import asyncio
from datetime import datetime

from litestar import Litestar
from litestar.testing import TestClient
from prometheus_client.parser import text_string_to_metric_families

from service.clock import utcnow
from service.config import Settings
from service.db import Database, DatabaseUnavailable
from service.jobs import repository
from service.jobs.repository import ImageResult
from service.jobs.validation import NewJob, Visit
from service.services import open_database
from tests.conftest import make_app, migrated
from tests.hardening.conftest import load_small_catalog


def scrape(client: TestClient[Litestar]) -> dict[tuple[str, tuple], float]:
    """{(sample name, sorted labels): value} of one scrape."""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def value(samples: dict, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def job(images: int) -> NewJob:
    urls = tuple(f"https://example.com/{n}.jpg" for n in range(images))
    return NewJob((Visit(0, "RP00001", datetime(2026, 11, 21, 10), None, urls),))


async def make_jobs(db: Database) -> None:
    """One completed job (3 images), one failed (2), one ongoing (1 in progress, 3 queued)."""

    async def settle(claimed: list[repository.ClaimedImage], *states: str) -> None:
        for image, state in zip(claimed, states, strict=True):
            now = utcnow()
            await repository.settle_image(db, ImageResult(image, state, now, now, "w"))

    await repository.create_job(db, job(3))
    await settle(await repository.claim_images(db, "w", 3, 60), "done", "done", "done")
    await repository.create_job(db, job(2))
    await settle(await repository.claim_images(db, "w", 2, 60), "done", "failed")
    await repository.create_job(db, job(4))
    assert len(await repository.claim_images(db, "w", 1, 60)) == 1


def test_request_latency_is_labelled_by_route_template(client: TestClient[Litestar]) -> None:
    labels = {"app_name": "retail_pulse", "method": "GET", "status_code": "404"}
    name = "retail_pulse_request_duration_seconds_count"

    def count() -> float:  # the registry is per process: other tests may have counted too
        return scrape(client).get(
            (name, tuple(sorted({**labels, "path": "/api/jobs/{job_id}"}.items()))), 0
        )

    before = count()
    for job_id in (101, 102, 103):
        assert client.get(f"/api/jobs/{job_id}").status_code == 404
    assert count() == before + 3
    samples = scrape(client)
    assert not [key for key in samples if any("/api/jobs/10" in v for _, v in key[1])]
    # Unrouted paths (scanners, typos) make no series at all.
    client.get("/no/such/path/12345")
    assert not [key for key in scrape(client) if any("12345" in v for _, v in key[1])]


def test_jobs_images_and_queue_depth_by_state(settings: Settings) -> None:
    db = open_database(migrated(settings))
    try:
        asyncio.run(make_jobs(db))
    finally:
        db.close()
    with TestClient(app=make_app(settings), raise_server_exceptions=False) as client:
        samples = scrape(client)
    jobs = {
        s: value(samples, "retail_pulse_jobs", state=s) for s in ("ongoing", "completed", "failed")
    }  # noqa: E501
    assert jobs == {"ongoing": 1, "completed": 1, "failed": 1}
    images = {
        s: value(samples, "retail_pulse_job_images", state=s)
        for s in ("queued", "in_progress", "done", "failed")
    }
    assert images == {"queued": 3, "in_progress": 1, "done": 4, "failed": 1}
    assert value(samples, "retail_pulse_job_queue_depth") == 3
    assert value(samples, "retail_pulse_database_up") == 1


def test_qa_votes_and_resolutions_are_counted_across_processes(settings: Settings) -> None:
    """Votes cast through one app instance show in another's scrape: counted from the DB."""
    voting_app = make_app(settings)
    load_small_catalog(voting_app.state.settings, products=2, snapshots=4)
    with (
        TestClient(app=voting_app, raise_server_exceptions=False) as voter,
        TestClient(app=make_app(settings), raise_server_exceptions=False) as other,
    ):
        before = scrape(other)
        assert value(before, "retail_pulse_qa_pending_snapshots") == 4
        assert value(before, "retail_pulse_qa_votes_total", verdict="match") == 0
        for name, votes in (("alice", [(min, True), (max, False)]), ("bob", [(min, True)])):
            session = voter.post("/qa/session", headers={"username": name}).json()
            ids = [s["snapshot_id"] for s in session["snapshots"]]
            for pick, is_match in votes:
                answer = voter.patch(
                    f"/qa/session/{session['session_id']}/snapshot/{pick(ids)}",
                    json={"is_match": is_match},
                    headers={"username": name},
                )
                assert answer.status_code == 200, answer.text
        after = scrape(other)
    assert value(after, "retail_pulse_qa_votes_total", verdict="match") == 2
    assert value(after, "retail_pulse_qa_votes_total", verdict="mismatch") == 1
    # Two agreeing votes resolve a snapshot; one vote does not.
    assert value(after, "retail_pulse_qa_resolutions_total", status="match") == 1
    assert value(after, "retail_pulse_qa_resolutions_total", status="mismatch") == 0
    assert value(after, "retail_pulse_qa_pending_snapshots") == 3
    assert value(after, "retail_pulse_qa_sessions", status="open") == 2


def test_scrape_succeeds_while_the_database_is_down(settings: Settings, monkeypatch) -> None:
    with TestClient(app=make_app(settings), raise_server_exceptions=False) as client:

        def unreachable(fn):  # noqa: ANN001, ANN202
            raise DatabaseUnavailable("connection refused")

        monkeypatch.setattr(client.app.state.services.db.engine, "read", unreachable)
        samples = scrape(client)
    assert value(samples, "retail_pulse_database_up") == 0
    assert not [key for key in samples if key[0].startswith("retail_pulse_job")]
    assert any(key[0] == "retail_pulse_requests_total" for key in samples)

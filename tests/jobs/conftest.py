"""Fixtures for the jobs tests: stores, job helpers and the service as a child process.

The loopback image server is `scripts.harness.image_server` (the `image_server` fixture is
in tests/conftest.py); its names stay importable from here for the other test folders."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from scripts.harness.image_server import ImageServer, image_bytes  # noqa: F401 - re-exported
from scripts.harness.served import Served
from scripts.harness.waiting import wait_for
from service.config import Settings
from tests.conftest import image_server, make_app  # noqa: F401 - image_server: re-exported

STORES_CSV = (
    b"AreaCode,StoreName,StoreID\r\n"
    b"7100015,B P STORE,RP00001\r\n"
    b'7100015,"AB REHMAN,-1",RP00002\r\n'
    b"7000129,ZARDA HOUSE,RP00003"
)


def running_client(settings: Settings, **changes: object) -> TestClient[Litestar]:
    """A test client whose app runs the worker in-process (stores RP00001-RP00003 loaded)."""
    changes.setdefault("worker_enabled", True)
    app = make_app(settings, **changes)
    return TestClient(app=app, raise_server_exceptions=False)


async def load_test_stores(client: TestClient[Litestar]) -> None:
    from service.jobs.stores import parse_store_master, upsert_stores

    services = client.app.state.services
    await upsert_stores(services.db, parse_store_master(STORES_CSV))


@pytest.fixture
def worker_client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    with running_client(settings) as client:
        client.blocking_portal.call(load_test_stores, client)
        yield client


def visit(store_id: str, *urls: str, when: str = "2026-11-21T10:00:00+05:30") -> dict[str, Any]:
    return {"store_id": store_id, "image_url": list(urls), "visit_time": when}


def submit(client: TestClient[Litestar] | httpx.Client, *visits: dict[str, Any]) -> int:
    response = client.post("/api/submit/", json={"count": len(visits), "visits": list(visits)})
    assert response.status_code == 201, response.text
    return response.json()["job_id"]


def wait_settled(
    client: TestClient[Litestar] | httpx.Client, job_id: int, timeout: float = 20.0
) -> dict:
    """Poll /api/status until the job is no longer ongoing; return the last body."""

    def settled() -> dict | None:
        body = client.get(f"/api/status?jobid={job_id}").json()
        return body if body["status"] != "ongoing" else None

    return wait_for(settled, timeout, f"job {job_id} to settle", every=0.02)


def done_count(client: TestClient[Litestar] | httpx.Client, job_id: int) -> int:
    return client.get(f"/api/jobs/{job_id}").json()["counts"]["done"]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Served]:
    """The service as a child process (not started yet), its database migrated with the
    test stores: `tmp_path / "jobs.db"`."""
    served = Served(
        tmp_path,
        database="jobs.db",
        log="server.log",
        PROCESSING_DELAY="0.25",  # slow enough to be caught mid-job
        JOB_CONCURRENCY="2",
        WEB_CONCURRENCY="1",  # one process, killed outright (see test_jobs_processes.py)
        LEASE_SECONDS="2",
        DOWNLOAD_TIMEOUT="1",  # loopback images; the lease must outlast download + delay
        WORKER_ENABLED="true",
    )
    served.migrate(stores=STORES_CSV)
    try:
        yield served
    finally:
        served.kill()


def results(database: Path, job_id: int) -> list[tuple[int, int, str]]:
    """(seq, attempts, status) of each result row of a job, read straight from SQLite."""
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT seq, attempts, status FROM image_results WHERE job_id = ? ORDER BY seq",
            (job_id,),
        ).fetchall()

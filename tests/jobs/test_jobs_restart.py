"""Durability: SIGKILL the server mid-job, start it again, and the job completes with exactly
one result per image (the dead process's leases expire and its images are retaken)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.config import ROOT
from tests.jobs.conftest import STORES_CSV, ImageServer, visit
from tests.mariadb import free_port

IMAGES = 16


class Server:
    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.base = f"http://127.0.0.1:{env['PORT']}"
        self.process: subprocess.Popen[bytes] | None = None

    def cli(self, *args: str) -> None:
        subprocess.run(
            [sys.executable, "-m", "service", *args], env=self.env, cwd=ROOT, check=True,
            capture_output=True, timeout=60,
        )  # fmt: skip

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service", "serve"], env=self.env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 30
        while True:
            assert self.process.poll() is None, self.log.read_text()[-2000:]
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "server did not start"
            time.sleep(0.1)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'jobs.db'}",
        "STORAGE_URL": f"file://{tmp_path / 'blobs'}",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
        "PROCESSING_DELAY": "0.25",  # slow enough to be caught mid-job
        "JOB_CONCURRENCY": "2",
        "LEASE_SECONDS": "2",
        "DOWNLOAD_TIMEOUT": "1",  # loopback images; the lease must outlast download + delay
        "ALLOW_PRIVATE_IMAGE_URLS": "true",
        "WORKER_ENABLED": "true",
        "LOG_LEVEL": "warning",
    }
    stores = tmp_path / "stores.csv"
    stores.write_bytes(STORES_CSV)
    running = Server(env, tmp_path / "server.log")
    running.cli("migrate")
    running.cli("load-stores", str(stores))
    try:
        yield running
    finally:
        running.kill()


def results(database: Path, job_id: int) -> list[tuple[int, int, str]]:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT seq, attempts, status FROM image_results WHERE job_id = ? ORDER BY seq",
            (job_id,),
        ).fetchall()


def test_sigkill_mid_job_then_restart_completes_with_one_result_per_image(
    server: Server, image_server: ImageServer, tmp_path: Path
) -> None:
    urls = [image_server.url(f"/img/{n}x5.png") for n in range(1, IMAGES + 1)]
    server.start()
    response = httpx.post(
        f"{server.base}/api/submit/", json={"count": 1, "visits": [visit("RP00001", *urls)]}
    )
    assert response.status_code == 201
    job_id = response.json()["job_id"]
    while httpx.get(f"{server.base}/api/jobs/{job_id}").json()["counts"]["done"] < 4:
        time.sleep(0.05)
    server.kill()

    before = results(tmp_path / "jobs.db", job_id)
    assert 4 <= len(before) < IMAGES  # killed mid-job

    server.start()
    deadline = time.monotonic() + 30
    while (status := httpx.get(f"{server.base}/api/status?jobid={job_id}").json())[
        "status"
    ] == "ongoing":
        assert time.monotonic() < deadline, "job did not complete after the restart"
        time.sleep(0.1)
    assert status == {"job_id": job_id, "status": "completed"}

    after = results(tmp_path / "jobs.db", job_id)
    assert [seq for seq, _, _ in after] == list(range(IMAGES))  # exactly one row per image
    assert {state for _, _, state in after} == {"done"}
    assert set(before) <= set(after)  # results written before the kill are untouched
    # The images in flight at the kill were retaken once their lease expired.
    assert any(attempts == 2 for _, attempts, _ in after)

"""SIGTERM: stop claiming at once, let in-flight images finish within SHUTDOWN_GRACE or hand them
back to the queue, and exit 0."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx

from service.config import ROOT
from tests.hardening.conftest import wait_for
from tests.jobs.conftest import STORES_CSV, ImageServer, visit
from tests.mariadb import free_port


class Serve:
    def __init__(self, tmp_path: Path, **env: str) -> None:
        self.db = tmp_path / "jobs.db"
        self.log = tmp_path / "serve.log"
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        self.env = {
            "PATH": os.environ["PATH"],
            "DATABASE_URL": f"sqlite:///{self.db}",
            "STORAGE_URL": f"file://{tmp_path / 'blobs'}",
            "PORT": str(port),
            "ALLOW_PRIVATE_IMAGE_URLS": "true",
            "WORKER_ENABLED": "true",
            "JOB_CONCURRENCY": "2",
            "WEB_CONCURRENCY": "1",  # one server's drain (the supervisor: test_jobs_processes)
            "LEASE_SECONDS": "60",
            "LOG_LEVEL": "info",
            **env,
        }
        stores = tmp_path / "stores.csv"
        stores.write_bytes(STORES_CSV)
        for args in (["migrate"], ["load-stores", str(stores)]):
            subprocess.run(
                [sys.executable, "-m", "service", *args], env=self.env, cwd=ROOT, check=True,
                capture_output=True, timeout=60,
            )  # fmt: skip
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "service", "serve"], env=self.env, cwd=ROOT,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

        def up() -> bool:
            assert self.process.poll() is None, self.log.read_text()
            try:
                return httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(up, 30, "serve answering", every=0.1)

    def sql(self, text: str) -> list[tuple]:
        with sqlite3.connect(self.db) as connection:
            return connection.execute(text).fetchall()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop_time(self) -> datetime:
        """When the server logged the signal (naive UTC, like the database's timestamps)."""
        match = re.search(r"^(\S+)Z \[info\s*\] stopping ", self.log.read_text(), re.MULTILINE)
        assert match, self.log.read_text()
        return datetime.fromisoformat(match[1])


def submit(server: Serve, urls: list[str]) -> int:
    body = {"count": 1, "visits": [visit("RP00001", *urls)]}
    response = httpx.post(f"{server.base}/api/submit/", json=body, timeout=10)
    assert response.status_code == 201, response.text
    return response.json()["job_id"]


def terminate(server: Serve) -> tuple[int, float]:
    started = time.monotonic()
    server.process.send_signal(signal.SIGTERM)
    code = server.process.wait(timeout=60)
    return code, time.monotonic() - started


def test_in_flight_images_finish_and_nothing_new_is_claimed(
    tmp_path: Path, image_server: ImageServer
) -> None:
    server = Serve(tmp_path, PROCESSING_DELAY="0.6", SHUTDOWN_GRACE="10")
    try:
        submit(server, [image_server.url(f"/img/{n}x4.png") for n in range(1, 13)])
        wait_for(lambda: server.sql("SELECT COUNT(*) FROM image_results")[0][0] >= 2, 30,
                 "two images done")  # fmt: skip
        code, took = terminate(server)
    finally:
        server.kill()
    assert code == 0, server.log.read_text()
    assert took < 8
    stopped = server.stop_time()
    results = server.sql("SELECT started_at, finished_at FROM image_results")
    # No image started after the signal; those in flight then were finished, not dropped.
    assert all(datetime.fromisoformat(started) < stopped for started, _ in results)
    assert any(datetime.fromisoformat(finished) > stopped for _, finished in results)
    leftover = server.sql(
        "SELECT COUNT(*), SUM(attempts), COUNT(lease_owner) FROM job_images "
        "WHERE status = 'pending'"
    )
    assert leftover == [(12 - len(results), 0, 0)]  # untouched: no lease, no attempt counted
    assert "Traceback" not in server.log.read_text()


def test_images_still_running_at_the_grace_are_handed_back(
    tmp_path: Path, image_server: ImageServer
) -> None:
    server = Serve(tmp_path, PROCESSING_DELAY="30", SHUTDOWN_GRACE="1")
    try:
        submit(server, [image_server.url(f"/img/{n}x4.png") for n in range(1, 6)])
        in_flight = "SELECT COUNT(*) FROM job_images WHERE lease_owner IS NOT NULL"
        wait_for(lambda: server.sql(in_flight)[0][0] >= 2, 30, "two images claimed")
        code, took = terminate(server)
    finally:
        server.kill()
    assert code == 0, server.log.read_text()
    assert took < 6  # the 1 s grace, not the 30 s the images would take
    assert server.sql("SELECT COUNT(*) FROM image_results") == [(0,)]
    # Released: claimable at once by the next process, and not counted as an attempt.
    assert server.sql(
        "SELECT COUNT(*), SUM(attempts), COUNT(lease_owner), MAX(lease_expires) FROM job_images"
    ) == [(5, 0, 0, "1970-01-01 00:00:00.000000")]
    assert "released=3" in server.log.read_text()  # 2 in the GPU step, 1 downloaded ahead

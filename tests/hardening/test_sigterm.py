"""SIGTERM: stop claiming at once, let in-flight images finish within SHUTDOWN_GRACE or hand them
back to the queue, and exit 0."""

from __future__ import annotations

import re
import sqlite3
from datetime import datetime
from pathlib import Path

import httpx

from scripts.harness.served import Served
from scripts.harness.waiting import wait_for
from tests.jobs.conftest import STORES_CSV, ImageServer, submit, visit


class Serve(Served):
    """One server process with the worker on, migrated and serving; its database is jobs.db.
    (test_slow_body and test_memory_bound start theirs with it too.)"""

    def __init__(self, tmp_path: Path, **env: str) -> None:
        defaults = {
            "WORKER_ENABLED": "true",
            "JOB_CONCURRENCY": "2",
            "WEB_CONCURRENCY": "1",  # one server's drain (the supervisor: test_jobs_processes)
            "LEASE_SECONDS": "60",
            "LOG_LEVEL": "info",  # the "stopping" line marks the signal
        }
        super().__init__(tmp_path, database="jobs.db", **(defaults | env))
        self.db = self.database
        self.migrate(stores=STORES_CSV)
        self.start()

    def sql(self, text: str) -> list[tuple]:
        with sqlite3.connect(self.db) as connection:
            return connection.execute(text).fetchall()

    def stop_time(self) -> datetime:
        """When the server logged the signal (naive UTC, like the database's timestamps)."""
        log = self.log.read_text()
        match = re.search(r"^(\S+)Z \[info\s*\] stopping ", log, re.MULTILINE)
        assert match, log
        return datetime.fromisoformat(match[1])


def submit_images(server: Serve, urls: list[str]) -> None:
    with httpx.Client(base_url=server.base, timeout=10) as client:
        submit(client, visit("RP00001", *urls))


def test_in_flight_images_finish_and_nothing_new_is_claimed(
    tmp_path: Path, image_server: ImageServer
) -> None:
    server = Serve(tmp_path, PROCESSING_DELAY="0.6", SHUTDOWN_GRACE="10")
    try:
        submit_images(server, [image_server.url(f"/img/{n}x4.png") for n in range(1, 13)])
        wait_for(lambda: server.sql("SELECT COUNT(*) FROM image_results")[0][0] >= 2, 30,
                 "two images done")  # fmt: skip
        # It exits by itself, with status 0 (a hang would end in TimeoutExpired here).
        code = server.terminate(timeout=60)
    finally:
        server.kill()
    assert code == 0, server.tail()
    stopped = server.stop_time()
    results = server.sql("SELECT started_at, finished_at FROM image_results")
    assert 2 <= len(results) < 12  # the job was cut short: the rest waits for the next process
    # No image started after the signal; those in flight then were finished, not dropped.
    assert all(datetime.fromisoformat(started) < stopped for started, _ in results)
    assert any(datetime.fromisoformat(finished) > stopped for _, finished in results)
    leftover = server.sql(
        "SELECT COUNT(*), SUM(attempts), COUNT(lease_owner) FROM job_images "
        "WHERE status = 'pending'",
    )
    assert leftover == [(12 - len(results), 0, 0)]  # untouched: no lease, no attempt counted
    assert "Traceback" not in server.log.read_text()


def test_images_still_running_at_the_grace_are_handed_back(
    tmp_path: Path, image_server: ImageServer
) -> None:
    server = Serve(tmp_path, PROCESSING_DELAY="30", SHUTDOWN_GRACE="1")
    try:
        submit_images(server, [image_server.url(f"/img/{n}x4.png") for n in range(1, 6)])
        in_flight = "SELECT COUNT(*) FROM job_images WHERE lease_owner IS NOT NULL"
        wait_for(lambda: server.sql(in_flight)[0][0] >= 2, 30, "two images claimed")
        # Within the grace, not the 30 s the images would take: a process that waited them
        # out would time out here (20 s) or have written their results.
        code = server.terminate(timeout=20)
    finally:
        server.kill()
    assert code == 0, server.tail()
    assert server.sql("SELECT COUNT(*) FROM image_results") == [(0,)]
    # Released: claimable at once by the next process, and not counted as an attempt.
    assert server.sql(
        "SELECT COUNT(*), SUM(attempts), COUNT(lease_owner), MAX(lease_expires) FROM job_images",
    ) == [(5, 0, 0, "1970-01-01 00:00:00.000000")]
    assert "released=3" in server.log.read_text()  # 2 in the GPU step, 1 downloaded ahead

"""`serve` with WEB_CONCURRENCY=2: two server processes on one port and one database.

SIGKILL one of them in the middle of a job: the job still completes with exactly one result
per image (the dead process's leases expire and its images are retaken), and the supervisor
starts a replacement. SIGTERM stops both and exits 0; a start-up failure exits 1.
"""

from __future__ import annotations

import os
import signal
import sqlite3
from pathlib import Path

import httpx

from scripts.harness.served import Served
from scripts.harness.waiting import wait_for
from scripts.processes import children
from tests.jobs.conftest import ImageServer, results, visit, wait_settled

IMAGES = 32


def leased_pids(database: Path) -> set[int]:
    """The pids holding live leases (lease_owner is host:pid:nonce)."""
    with sqlite3.connect(database) as connection:
        owners = connection.execute(
            "SELECT DISTINCT lease_owner FROM job_images "
            "WHERE status = 'pending' AND lease_owner IS NOT NULL"
        ).fetchall()
    return {int(owner.split(":")[1]) for (owner,) in owners}


def test_sigkill_one_of_two_processes_mid_job_and_every_image_is_done_once(
    server: Served, image_server: ImageServer, tmp_path: Path
) -> None:
    server.env.update(WEB_CONCURRENCY="2", JOB_CONCURRENCY="4")
    urls = [image_server.url(f"/img/{n}x7.png") for n in range(1, IMAGES + 1)]
    server.start()
    wait_for(lambda: len(children(server.pid)) >= 2, 30, "both serving")  # one answered
    response = httpx.post(
        f"{server.base}/api/submit/", json={"count": 1, "visits": [visit("RP00001", *urls)]}
    )
    job_id = response.json()["job_id"]
    database = tmp_path / "jobs.db"
    # Wait until both processes hold leases, then kill one of them outright.
    web = children(server.pid)

    def holders() -> set[int]:
        return leased_pids(database) & web if len(results(database, job_id)) >= 2 else set()

    victim = sorted(wait_for(holders, 30, "a process to take the job", every=0.02))[0]
    os.kill(victim, signal.SIGKILL)
    before = results(database, job_id)
    assert len(before) < len(urls)  # killed mid-job

    with httpx.Client(base_url=server.base, timeout=10) as client:
        status = wait_settled(client, job_id, timeout=60)
    assert status == {"job_id": job_id, "status": "completed"}
    after = results(database, job_id)
    assert [seq for seq, _, _ in after] == list(range(len(urls)))  # one row per image
    assert {state for _, _, state in after} == {"done"}
    assert set(before) <= set(after)
    assert any(attempts == 2 for _, attempts, _ in after)  # the victim's images, retaken
    replacements = children(server.pid) - web
    assert len(replacements) == 1 and victim not in children(server.pid)

    assert server.terminate(timeout=30) == 0
    assert not children(server.pid)


def test_a_process_that_cannot_start_stops_the_service_with_status_1(
    server: Served, tmp_path: Path
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the blob directory should be")
    server.env.update(WEB_CONCURRENCY="2", STORAGE_URL=f"file://{blocked}")
    server.start(wait=False)
    assert server.process is not None
    assert server.process.wait(timeout=60) == 1
    assert "failed at start" in server.log.read_text()


def test_sigterm_while_the_processes_start_stops_them_all_with_status_0(server: Served) -> None:
    """The signal can come before the children are up, or between two of them starting."""
    server.env.update(WEB_CONCURRENCY="2")
    server.start(wait=False)
    assert server.process is not None

    def spawned() -> set[int]:  # not yet serving
        assert server.process is not None and server.process.poll() is None
        return children(server.pid)

    started = wait_for(spawned, 30, "a child process", every=0.005)
    assert server.terminate(timeout=30) == 0, server.tail()
    # None left serving on its own.
    wait_for(lambda: not any(running(pid) for pid in started), 10, "the children to exit")


def running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"

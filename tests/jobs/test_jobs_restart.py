"""Durability: SIGKILL the server mid-job, start it again, and the job completes with exactly
one result per image (the dead process's leases expire and its images are retaken)."""

from __future__ import annotations

import time
from pathlib import Path

import httpx

from tests.jobs.conftest import ImageServer, visit
from tests.jobs.served import Server, results

IMAGES = 16


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

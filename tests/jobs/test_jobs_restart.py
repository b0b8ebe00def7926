"""Durability: SIGKILL the server mid-job, start it again, and the job completes with exactly
one result per image (the dead process's leases expire and its images are retaken)."""

from __future__ import annotations

import httpx

from scripts.harness.served import Served
from scripts.harness.waiting import wait_for
from tests.jobs.conftest import ImageServer, done_count, results, submit, visit, wait_settled

IMAGES = 16


def test_sigkill_mid_job_then_restart_completes_with_one_result_per_image(
    server: Served, image_server: ImageServer
) -> None:
    urls = [image_server.url(f"/img/{n}x5.png") for n in range(1, IMAGES + 1)]
    server.start()
    with httpx.Client(base_url=server.base, timeout=10) as client:
        job_id = submit(client, visit("RP00001", *urls))
        wait_for(lambda: done_count(client, job_id) >= 4, 30, "four images done")
    server.kill()

    before = results(server.database, job_id)
    assert 4 <= len(before) < IMAGES  # killed mid-job

    server.start()
    with httpx.Client(base_url=server.base, timeout=10) as client:
        status = wait_settled(client, job_id, timeout=30)
    assert status == {"job_id": job_id, "status": "completed"}

    after = results(server.database, job_id)
    assert [seq for seq, _, _ in after] == list(range(IMAGES))  # exactly one row per image
    assert {state for _, _, state in after} == {"done"}
    assert set(before) <= set(after)  # results written before the kill are untouched
    # The images in flight at the kill were retaken once their lease expired.
    assert any(attempts == 2 for _, attempts, _ in after)

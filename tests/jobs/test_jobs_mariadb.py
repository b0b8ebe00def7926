"""The jobs flow on MariaDB standing in for SingleStore: the same SQL, the other dialect."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime

import msgspec
import pytest

from service.config import Settings
from service.jobs import repository
from service.jobs.validation import NewJob, Visit
from service.services import open_database
from tests.conftest import migrated
from tests.jobs.conftest import (
    ImageServer,
    load_test_stores,
    running_client,
    submit,
    visit,
    wait_settled,
)

pytestmark = pytest.mark.mariadb


@pytest.fixture
def maria_settings(settings: Settings, mariadb_url: str) -> Settings:
    return msgspec.structs.replace(settings, database_url=mariadb_url)


def test_jobs_flow_on_mariadb(maria_settings: Settings, image_server: ImageServer) -> None:
    with running_client(maria_settings) as client:
        client.blocking_portal.call(load_test_stores, client)
        good = [image_server.url(f"/img/{w}x{h}.png") for w, h in [(10, 20), (7, 3), (64, 64)]]
        job_id = submit(
            client,
            visit("RP00001", *good, when="2026-11-21 10:00:00"),
            visit("RP00002", good[0], image_server.url("/status/404")),
            visit("S00339218", good[1]),
        )
        status = wait_settled(client, job_id)
        report = client.get(f"/api/jobs/{job_id}").json()
        visits = client.get("/api/visits?area=7100015&startdate=2026-11-21").json()
        second = submit(client, visit("RP00003", *good))
        assert wait_settled(client, second) == {"job_id": second, "status": "completed"}

    assert status["status"] == "failed"
    assert [e["store_id"] for e in status["error"]] == ["RP00002", "S00339218"]
    assert report["counts"] == {"total": 6, "done": 4, "failed": 2, "pending": 0}
    assert [i["perimeter"] for i in report["visits"][0]["images"]] == [60, 20, 256]
    assert visits["results"][0]["store_id"] == "RP00001"
    assert visits["results"][0]["data"] == [{"date": "2026-11-21", "perimeter": 336}]
    assert visits["results"][1]["data"][0]["perimeter"] == 60  # RP00002's one good image


def test_racing_claimers_never_share_an_image(maria_settings: Settings) -> None:
    db = open_database(migrated(maria_settings))
    try:
        job = NewJob(
            (Visit(0, "RP00001", datetime(2026, 11, 21), None,
                   tuple(f"https://example.com/{n}.jpg" for n in range(60))),)
        )  # fmt: skip
        asyncio.run(repository.create_job(db, job))

        def claim_all(owner: str) -> list[int]:
            seqs: list[int] = []
            while batch := asyncio.run(repository.claim_images(db, owner, 4, 60)):
                seqs.extend(image.seq for image in batch)
            return seqs

        with ThreadPoolExecutor(4) as pool:
            claimed = list(pool.map(claim_all, ["w1", "w2", "w3", "w4"]))
    finally:
        db.close()
    everything = [seq for seqs in claimed for seq in seqs]
    assert sorted(everything) == list(range(60))  # each image claimed exactly once

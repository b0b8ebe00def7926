"""The durable queue: fair claim order, leases, compare-and-set claims, settle-once results."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import datetime

import pytest

from scripts.harness.waiting import wait_for
from service.clock import ManualClock, utcnow
from service.config import Settings
from service.db import Database
from service.jobs import repository
from service.jobs.repository import ImageResult
from service.jobs.validation import NewJob, Visit
from service.services import open_database
from tests.conftest import migrated
from tests.jobs.conftest import (
    ImageServer,
    done_count,
    load_test_stores,
    running_client,
    submit,
    visit,
    wait_settled,
)


def new_job(*image_counts: int, store_id: str = "RP00001") -> NewJob:
    return NewJob(
        tuple(
            Visit(i, store_id, datetime(2026, 11, 21, 10), None,
                  tuple(f"https://example.com/{i}/{n}.jpg" for n in range(count)))
            for i, count in enumerate(image_counts)
        )
    )  # fmt: skip


@pytest.fixture
def db(settings: Settings) -> Iterator[Database]:
    database = open_database(migrated(settings))
    yield database
    database.close()


def run(coroutine):  # noqa: ANN001, ANN201 - a tiny helper
    return asyncio.run(coroutine)


def settle(db: Database, claimed: list[repository.ClaimedImage]) -> None:
    for image in claimed:
        now = utcnow()
        assert run(repository.settle_image(db, ImageResult(image, "done", now, now, "w")))


def test_claim_order_interleaves_jobs(db: Database) -> None:
    first = run(repository.create_job(db, new_job(10)))
    settle(db, run(repository.claim_images(db, "w1", 2, 60)))
    # A second job starts at the queue's head (the oldest unfinished image), so the two take
    # turns instead of the second waiting for the first to drain.
    second = run(repository.create_job(db, new_job(4, 6)))
    claimed = run(repository.claim_images(db, "w1", 6, 60))
    assert [(c.job_id, c.seq) for c in claimed] == [
        (first, 2),
        (second, 0),
        (first, 3),
        (second, 1),
        (first, 4),
        (second, 2),
    ]
    # A 1-image job submitted now is claimed next, ahead of both.
    small = run(repository.create_job(db, new_job(1)))
    [next_one] = run(repository.claim_images(db, "w1", 1, 60))
    assert (next_one.job_id, next_one.seq) == (small, 0)


def test_claims_are_exclusive_until_the_lease_expires(db: Database) -> None:
    job_id = run(repository.create_job(db, new_job(3)))
    mine = run(repository.claim_images(db, "w1", 2, lease_seconds=60))
    theirs = run(repository.claim_images(db, "w2", 5, lease_seconds=60))
    assert [c.seq for c in mine] == [0, 1] and [c.seq for c in theirs] == [2]
    assert run(repository.claim_images(db, "w3", 5, lease_seconds=60)) == []

    clock = ManualClock()
    expired_job = run(repository.create_job(db, new_job(1)))
    [short] = run(repository.claim_images(db, "w1", 1, lease_seconds=30, clock=clock))
    assert (short.job_id, short.attempt) == (expired_job, 1)
    clock.advance(29)
    assert run(repository.claim_images(db, "w2", 5, lease_seconds=60, clock=clock)) == []
    assert not run(repository.has_claimable(db, clock=clock))
    clock.advance(2)  # past the lease: claimable again, and retaken as a second attempt
    assert run(repository.has_claimable(db, clock=clock))
    [retaken] = run(repository.claim_images(db, "w2", 5, lease_seconds=60, clock=clock))
    assert (retaken.job_id, retaken.seq, retaken.attempt) == (expired_job, 0, 2)
    assert job_id != expired_job


def test_a_result_is_written_once(db: Database) -> None:
    clock = ManualClock()
    job_id = run(repository.create_job(db, new_job(1)))
    [image] = run(repository.claim_images(db, "w1", 1, lease_seconds=60, clock=clock))
    clock.advance(61)  # w1 is slow: its lease runs out and w2 takes the image
    [again] = run(repository.claim_images(db, "w2", 1, lease_seconds=60, clock=clock))

    def result(claimed: repository.ClaimedImage, worker: str) -> ImageResult:
        now = utcnow()
        return ImageResult(claimed, "done", now, now, worker, width=3, height=4, perimeter=14)

    assert run(repository.settle_image(db, result(again, "w2"))) is True
    assert run(repository.settle_image(db, result(image, "w1"))) is False  # the slow one loses
    assert run(db.fetch_value("jobs_result_count", {"job_id": job_id})) == 1
    rows = run(db.fetch_all("jobs_images", {"job_id": job_id}))
    assert [(r["status"], r["perimeter"]) for r in rows] == [("done", 14)]


def test_stop_releases_unfinished_leases(db: Database) -> None:
    run(repository.create_job(db, new_job(2)))
    run(repository.claim_images(db, "w1", 2, lease_seconds=600))
    assert run(repository.release_leases(db, "w1")) == 2
    again = run(repository.claim_images(db, "w2", 5, lease_seconds=60))
    assert [c.attempt for c in again] == [1, 1]  # a clean stop is not a failed attempt


def test_a_small_job_is_not_stuck_behind_a_big_one(
    settings: Settings, image_server: ImageServer
) -> None:
    big_urls = [image_server.url(f"/img/{n}x9.png") for n in range(1, 201)]
    with running_client(settings, job_concurrency=2, processing_delay=(0.02, 0.02)) as client:
        client.blocking_portal.call(load_test_stores, client)
        big = submit(client, visit("RP00001", *big_urls))
        wait_for(lambda: done_count(client, big) >= 5, 20, "five of the big job's images")
        small = submit(client, visit("RP00002", image_server.url("/img/3x3.png")))
        assert wait_settled(client, small)["status"] == "completed"
        small_done = client.get(f"/api/jobs/{small}").json()["timings"]["last_finished_at"]
        report = client.get(f"/api/jobs/{big}").json()
    big_done_before = sum(
        1
        for v in report["visits"]
        for image in v["images"]
        if image["finished_at"] and image["finished_at"] <= small_done
    )
    # 200 images at 2 at a time take ~2 s; the small job needed only a free slot or two.
    assert big_done_before < 40, big_done_before

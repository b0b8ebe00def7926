"""The worker, in-process, against a loopback image server: results, failures, reports."""

from __future__ import annotations

import asyncio
import time

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.config import Settings
from service.jobs.processing import ImageProcessor
from service.jobs.worker import prefetch
from tests.jobs.conftest import (
    ImageServer,
    load_test_stores,
    running_client,
    submit,
    visit,
    wait_settled,
)

SIZES = [(640, 480, "jpg"), (17, 31, "png"), (300, 200, "webp"), (1, 1, "gif"), (1, 999, "png")]


def test_perimeters_match_images_of_known_sizes(
    worker_client: TestClient[Litestar], image_server: ImageServer
) -> None:
    urls = [image_server.url(f"/img/{w}x{h}.{ext}") for w, h, ext in SIZES]
    job_id = submit(worker_client, visit("RP00001", *urls[:3]), visit("RP00002", *urls[3:]))
    assert wait_settled(worker_client, job_id) == {"job_id": job_id, "status": "completed"}

    report = worker_client.get(f"/api/jobs/{job_id}").json()
    assert report["counts"] == {"total": 5, "done": 5, "failed": 0, "pending": 0}
    images = [image for v in report["visits"] for image in v["images"]]
    assert [(i["width"], i["height"], i["perimeter"]) for i in images] == [
        (w, h, 2 * (w + h)) for w, h, _ in SIZES
    ]
    assert report["visits"][0]["store_name"] == "B P STORE"
    assert report["visits"][1]["store_name"] == "AB REHMAN,-1"
    assert report["visits"][0]["visit_time"] == "2026-11-21T10:00:00+05:30"
    assert report["timings"]["elapsed_seconds"] is not None
    # The bytes were stored and are served back from blob storage.
    stored = worker_client.get(images[1]["blob_url"])
    assert stored.status_code == 200
    assert stored.headers["content-type"] == "image/png"
    assert stored.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_404_image_fails_the_job_with_the_status_and_url(
    worker_client: TestClient[Litestar], image_server: ImageServer
) -> None:
    missing = image_server.url("/status/404")
    job_id = submit(worker_client, visit("RP00001", image_server.url("/img/10x10.png"), missing))
    assert wait_settled(worker_client, job_id) == {
        "job_id": job_id,
        "status": "failed",
        "error": [
            {"store_id": "RP00001", "error": f"image download failed: HTTP 404 for {missing}"}
        ],
    }
    report = worker_client.get(f"/api/jobs/{job_id}").json()
    assert [i["status"] for i in report["visits"][0]["images"]] == ["done", "failed"]


def test_a_body_that_is_not_an_image_fails(
    worker_client: TestClient[Litestar], image_server: ImageServer
) -> None:
    job_id = submit(worker_client, visit("RP00003", image_server.url("/text")))
    status = wait_settled(worker_client, job_id)
    assert status["status"] == "failed"
    [failure] = status["error"]
    assert failure["store_id"] == "RP00003"
    assert failure["error"].startswith("image could not be decoded: not a JPEG, PNG, WebP or GIF")


def test_unknown_store_fails_without_downloading(
    worker_client: TestClient[Litestar], image_server: ImageServer
) -> None:
    url = image_server.url("/img/12x12.png?unknown-store")
    job_id = submit(worker_client, visit("S00339218", url, url))
    assert wait_settled(worker_client, job_id) == {
        "job_id": job_id,
        "status": "failed",
        "error": [{"store_id": "S00339218", "error": "store_id not found in store master"}],
    }
    assert "/img/12x12.png" not in image_server.paths


def test_mixed_job_lists_only_the_failing_stores(
    worker_client: TestClient[Litestar], image_server: ImageServer
) -> None:
    good = image_server.url("/img/20x10.jpg")
    job_id = submit(
        worker_client,
        visit("RP00001", good, good),
        visit("S00339218", good),
        visit("RP00002", good, image_server.url("/status/500"), image_server.url("/status/404")),
        visit("RP00003", good),
    )
    status = wait_settled(worker_client, job_id)
    assert status["status"] == "failed"
    assert [entry["store_id"] for entry in status["error"]] == ["S00339218", "RP00002"]
    assert status["error"][1]["error"] == (
        f"image download failed: HTTP 500 for {image_server.url('/status/500')}"
        " (and 1 more failed image)"
    )
    report = worker_client.get(f"/api/jobs/{job_id}").json()
    assert report["counts"] == {"total": 7, "done": 4, "failed": 3, "pending": 0}


def test_redirects_are_followed_up_to_three(
    worker_client: TestClient[Litestar], image_server: ImageServer
) -> None:
    three = image_server.url("/redirect/3/img/8x6.png")
    four = image_server.url("/redirect/4/img/8x6.png")
    job_id = submit(worker_client, visit("RP00001", three), visit("RP00002", four))
    status = wait_settled(worker_client, job_id)
    assert status["error"] == [
        {"store_id": "RP00002", "error": f"image download failed: more than 3 redirects for {four}"}
    ]
    report = worker_client.get(f"/api/jobs/{job_id}").json()
    assert report["visits"][0]["images"][0]["perimeter"] == 28


def test_loopback_url_is_refused_unless_private_urls_are_allowed(
    settings: Settings, image_server: ImageServer
) -> None:
    url = image_server.url("/img/33x33.png")
    with running_client(settings, allow_private_image_urls=False) as client:
        client.blocking_portal.call(load_test_stores, client)
        job_id = submit(client, visit("RP00001", url))
        status = wait_settled(client, job_id)
    assert status["status"] == "failed"
    assert status["error"][0]["error"] == (
        "image URL refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address "
        "(set ALLOW_PRIVATE_IMAGE_URLS=true to allow)"
    )
    assert "/img/33x33.png" not in image_server.paths


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        ({"max_image_bytes": 100_000}, "/big", "larger than 0.0953674 MB (MAX_IMAGE_BYTES)"),
        ({"max_image_pixels": 1000}, "/img/40x40.png", "40x40 is more than 1000 pixels"),
    ],
    ids=["bytes", "pixels"],
)
def test_size_limits_fail_the_image(
    settings: Settings, image_server: ImageServer, changes: dict, path: str, reason: str
) -> None:
    with running_client(settings, **changes) as client:
        client.blocking_portal.call(load_test_stores, client)
        job_id = submit(client, visit("RP00001", image_server.url(path)))
        status = wait_settled(client, job_id)
    assert status["status"] == "failed"
    assert reason in status["error"][0]["error"]


def test_visits_sum_perimeters_per_store_and_day(
    worker_client: TestClient[Litestar], image_server: ImageServer
) -> None:
    a, b = image_server.url("/img/10x10.png"), image_server.url("/img/5x20.png")  # 40, 50
    job_id = submit(
        worker_client,
        visit("RP00001", a, b, when="2026-11-21T23:30:00+05:30"),
        visit("RP00001", a, when="2026-11-22 08:00:00"),
        visit("RP00003", b, image_server.url("/status/404"), when="2026-11-21 09:00:00"),
        visit("S00339218", a, when="2026-11-21 09:00:00"),
    )
    wait_settled(worker_client, job_id)

    everything = worker_client.get("/api/visits").json()
    assert everything == {
        "results": [
            {
                "store_id": "RP00001",
                "area": "7100015",
                "store_name": "B P STORE",
                "data": [
                    {"date": "2026-11-21", "perimeter": 90},  # the visit's own calendar day
                    {"date": "2026-11-22", "perimeter": 40},
                ],
            },
            {
                "store_id": "RP00003",
                "area": "7000129",
                "store_name": "ZARDA HOUSE",
                "data": [{"date": "2026-11-21", "perimeter": 50}],
            },
        ]
    }
    by_area = worker_client.get("/api/visits?area=7000129").json()["results"]
    assert [r["store_id"] for r in by_area] == ["RP00003"]
    by_store = worker_client.get("/api/visits?storeid=RP00001&startdate=2026-11-22").json()
    assert by_store["results"][0]["data"] == [{"date": "2026-11-22", "perimeter": 40}]
    until = worker_client.get("/api/visits?storeid=RP00001&enddate=2026-11-21").json()
    assert until["results"][0]["data"] == [{"date": "2026-11-21", "perimeter": 90}]
    assert worker_client.get("/api/visits?storeid=RP09999").json() == {"results": []}


@pytest.mark.parametrize(
    "query",
    ["startdate=2026-13-01", "enddate=yesterday", "startdate=2026-11-22&enddate=2026-11-21"],
)
def test_visits_bad_dates_are_400(client: TestClient[Litestar], query: str) -> None:
    response = client.get(f"/api/visits?{query}")
    assert response.status_code == 400
    assert "date" in response.json()["error"]


def test_the_gpu_step_is_bounded_by_job_concurrency_and_downloads_run_a_little_ahead(
    settings: Settings, image_server: ImageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_step = {"now": 0, "most": 0}

    async def counted_delay(self: ImageProcessor) -> None:
        in_step["now"] += 1
        in_step["most"] = max(in_step["most"], in_step["now"])
        # Hold the step until it was full once (a deadline, not a guess at how long it takes
        # to fill): the count below is then exact however busy the machine is.
        deadline = time.monotonic() + 10
        while in_step["most"] < 4 and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        in_step["now"] -= 1

    monkeypatch.setattr(ImageProcessor, "_delay", counted_delay)
    # `gate=2`: each download is held until two were in flight at once (the first ones).
    urls = [image_server.url(f"/img/{n}x7.png?gate=2") for n in range(1, 25)]
    image_server.max_active = 0
    with running_client(settings, job_concurrency=4) as client:
        client.blocking_portal.call(load_test_stores, client)
        job_id = submit(client, visit("RP00001", *urls))
        assert wait_settled(client, job_id)["status"] == "completed"
    assert in_step["most"] == 4  # the GPU step, JOB_CONCURRENCY at once
    assert 2 <= image_server.max_active <= 4 + prefetch(4)  # downloads, a little ahead

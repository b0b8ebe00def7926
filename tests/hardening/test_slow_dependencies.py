"""A stalled or trickling image server, and a blob store that is down or stalled: each bad image
fails on its own within its timeout, the others go on, and probes answer."""

from __future__ import annotations

from datetime import datetime

from litestar import Litestar
from litestar.testing import TestClient

from service.config import Settings
from tests.catalog.conftest import create_product
from tests.hardening.conftest import StalledServer, closed_port
from tests.jobs.conftest import (
    ImageServer,
    load_test_stores,
    running_client,
    submit,
    visit,
    wait_settled,
)


def results(client: TestClient[Litestar], job_id: int) -> dict[str, dict]:
    """url -> its image report (status, error, finished_at)."""
    report = client.get(f"/api/jobs/{job_id}").json()
    return {image["url"]: image for v in report["visits"] for image in v["images"]}


def finished(image: dict) -> datetime:
    return datetime.fromisoformat(image["finished_at"])


def test_a_stalled_image_server_fails_that_image_and_blocks_no_other(
    settings: Settings, image_server: ImageServer, stalled_server: StalledServer
) -> None:
    stalled = f"{stalled_server.base}/never.jpg"
    good = [image_server.url(f"/img/{n}x3.png") for n in range(1, 7)]
    # Two slots: the stalled download holds one for its whole timeout, the other does the rest.
    with running_client(settings, download_timeout=1.5, job_concurrency=2) as client:
        client.blocking_portal.call(load_test_stores, client)
        job_id = submit(client, visit("RP00001", stalled, *good))
        status = wait_settled(client, job_id, timeout=30)
        images = results(client, job_id)
    assert status["status"] == "failed"
    assert status["error"][0]["error"].startswith("image download failed: timed out")
    assert stalled in status["error"][0]["error"]
    assert images[stalled]["status"] == "failed"
    assert [images[url]["status"] for url in good] == ["done"] * len(good)
    assert max(finished(images[url]) for url in good) < finished(images[stalled])


def test_a_trickling_download_is_cut_at_the_processing_deadline(
    settings: Settings, image_server: ImageServer, stalled_server: StalledServer
) -> None:
    """A byte every 0.2 s never trips the 1.5 s read timeout; the per-image deadline (80% of
    the lease) ends it."""
    trickle = f"{stalled_server.base}/trickle.png"
    good = image_server.url("/img/4x4.png")
    with running_client(settings, download_timeout=1.5, lease_seconds=2.5) as client:
        client.blocking_portal.call(load_test_stores, client)
        job_id = submit(client, visit("RP00001", trickle, good))
        status = wait_settled(client, job_id, timeout=30)
        images = results(client, job_id)
    assert images[good]["status"] == "done"
    assert images[trickle]["status"] == "failed"
    assert images[trickle]["error"] == f"image processing timed out after 2 s for {trickle}"
    assert status["status"] == "failed"


def test_blob_store_down_fails_images_promptly_and_requests_get_503(
    settings: Settings, image_server: ImageServer
) -> None:
    s3_down = f"s3://key:secret-key@127.0.0.1:{closed_port()}/blobs?secure=false"
    with running_client(settings, storage_url=s3_down) as client:
        client.blocking_portal.call(load_test_stores, client)
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["storage"].startswith("error: BlobError: S3 request failed")
        assert ready.json()["database"] == "ok"
        upload = create_product(client)
        assert upload.status_code == 503
        assert upload.json() == {"error": "service temporarily unavailable, retry later"}
        urls = [image_server.url(f"/img/{n}x2.png") for n in range(1, 4)]
        job_id = submit(client, visit("RP00001", *urls))
        status = wait_settled(client, job_id, timeout=30)
        images = results(client, job_id)
    assert status["status"] == "failed"
    for url in urls:
        assert images[url]["error"].startswith("image could not be stored: S3 request failed")


def test_readyz_answers_while_the_blob_store_stalls(
    settings: Settings, stalled_server: StalledServer
) -> None:
    """S3 accepts the connection and says nothing: the probe gives up after 3 s, not after
    the S3 client's minute-long read timeout and its retries."""
    stalled = f"s3://key:secret-key@127.0.0.1:{stalled_server.port}/blobs?secure=false"
    with running_client(settings, storage_url=stalled, worker_enabled=False) as client:
        ready = client.get("/readyz")
        stalled_server.close()  # lets the abandoned S3 call end, so the app can shut down
    assert ready.status_code == 503
    assert ready.json()["storage"] == "error: no answer within 3 s"

"""What similarity adds to other answers: the embedding backlog in /metrics, a job's
embedding in its report, and EMBED_JOB_IMAGES choosing all, none or a sample of job images."""

from __future__ import annotations

import re

import msgspec
import pytest
from litestar.testing import TestClient

from service.config import Settings, load_settings
from service.services import Services
from service.similarity.background.catchup import count_missing, embed_missing
from tests.conftest import make_app
from tests.similarity.conftest import add_job_image, run


def gauge(text: str, name: str, label: str) -> float:
    found = re.search(rf'^retail_pulse_{name}\{{[a-z]+="{label}"\}} (\S+)$', text, re.M)
    assert found, f"{name}{{{label}}} not in /metrics"
    return float(found.group(1))


def a_job_image(settings: Settings) -> None:
    async def add(services: Services) -> None:
        photo = await services.db.fetch_one("similarity_snapshot", {"snapshot_id": 1})
        assert photo is not None
        await add_job_image(services, 1, services.blobs.get(photo["image_key"]))

    run(settings, add)


def test_the_backlog_is_in_metrics_and_the_job_report(demo_settings: Settings) -> None:
    a_job_image(demo_settings)
    with TestClient(app=make_app(demo_settings)) as client:
        metrics = client.get("/metrics").text
        assert gauge(metrics, "embedding_backlog", "job_image") == 1
        assert gauge(metrics, "embedding_backlog", "snapshot") == 0
        assert gauge(metrics, "projection_version", "efficientnet-lite0:2.1") == 1
        report = client.get("/api/jobs/1").json()
        assert report["embedding"] == {"embedded": 0, "waiting": 1, "not_sampled": 0}

        run(demo_settings, lambda services: embed_missing(services, "job_image"))
        assert gauge(client.get("/metrics").text, "embedding_backlog", "job_image") == 0
        report = client.get("/api/jobs/1").json()
        assert report["embedding"] == {"embedded": 1, "waiting": 0, "not_sampled": 0}


def test_embed_job_images_none_leaves_them_out(demo_settings: Settings) -> None:
    a_job_image(demo_settings)
    settings = msgspec.structs.replace(demo_settings, embed_job_images=0.0)
    assert run(settings, lambda services: count_missing(services, "job_image")) == 0
    assert run(settings, lambda services: embed_missing(services, "job_image")).embedded == 0
    with TestClient(app=make_app(settings)) as client:
        report = client.get("/api/jobs/1").json()
        assert report["embedding"] == {"embedded": 0, "waiting": 0, "not_sampled": 1}


def test_a_sample_is_chosen_by_a_hash_of_job_and_seq(demo_settings: Settings) -> None:
    settings = msgspec.structs.replace(demo_settings, embed_job_images=0.25)

    async def scenario(services: Services) -> tuple[int, int]:
        photo = await services.db.fetch_one("similarity_snapshot", {"snapshot_id": 1})
        data = services.blobs.get(photo["image_key"])
        for job_id in range(1, 201):
            await add_job_image(services, job_id, data)
        return await count_missing(services, "job_image"), sum(
            (job_id * 7919) % 1000 < 250 for job_id in range(1, 201)
        )

    chosen, expected = run(settings, scenario)
    assert chosen == expected and 30 <= chosen <= 70  # about a quarter of 200


@pytest.mark.parametrize(
    ("raw", "share"), [("all", 1.0), ("none", 0.0), ("0.1", 0.1), (" ALL ", 1.0)]
)
def test_embed_job_images_is_parsed(raw: str, share: float) -> None:
    assert load_settings({"EMBED_JOB_IMAGES": raw}, dotenv=None).embed_job_images == share


@pytest.mark.parametrize("raw", ["some", "1.5", "-0.1", ""])
def test_a_bad_embed_job_images_names_the_variable(raw: str) -> None:
    with pytest.raises(Exception, match="EMBED_JOB_IMAGES"):
        load_settings({"EMBED_JOB_IMAGES": raw}, dotenv=None)

"""What the schema fuzzing found, pinned as plain tests: ids past 64 bits are a 400 (they were
a 500, an SQLite overflow), and timestamps in answers carry their zone (RFC 3339)."""

from __future__ import annotations

from datetime import datetime

import pytest
from litestar import Litestar
from litestar.testing import TestClient

HUGE = str(2**63)  # one past the largest row id
ID_ROUTES = [
    ("GET", f"/api/jobs/{HUGE}"),
    ("GET", f"/api/snapshots/{HUGE}"),
    ("GET", f"/api/snapshots/{HUGE}/similar"),
    ("GET", f"/api/snapshots/{HUGE}/suggestions"),
    ("PATCH", f"/qa/session/{HUGE}/snapshot/1"),
    ("PATCH", f"/qa/session/1/snapshot/{HUGE}"),
    ("GET", f"/qa/products/{HUGE}/confirmed"),
]


@pytest.fixture(scope="module")
def client(fuzz_app: Litestar) -> TestClient[Litestar]:
    with TestClient(app=fuzz_app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize(("method", "path"), ID_ROUTES)
def test_an_id_past_64_bits_is_a_400(client: TestClient[Litestar], method: str, path: str) -> None:
    response = client.request(method, path, headers={"username": "qa1"}, json={"is_match": True})
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"error"}


def _zoned(value: str) -> bool:
    return datetime.fromisoformat(value).tzinfo is not None


def test_timestamps_in_answers_carry_their_zone(client: TestClient[Litestar]) -> None:
    product = client.get("/api/products").json()["items"][0]
    snapshot = client.get("/api/snapshots/1").json()
    report = client.get("/api/jobs/1").json()
    suspects = client.get("/qa/suspects", headers={"username": "qa1"}).json()
    image = report["visits"][0]["images"][0]
    stamps = [
        product["created_at"],
        snapshot["created_at"],
        report["timings"]["created_at"],
        report["timings"]["last_finished_at"],
        image["started_at"],
        image["finished_at"],
        *[row["scored_at"] for row in suspects],
    ]
    assert stamps and all(_zoned(stamp) for stamp in stamps), stamps

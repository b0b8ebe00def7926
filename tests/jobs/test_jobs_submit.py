"""POST /api/submit and GET /api/status: the exact contract (worker off: nothing processes)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.config import SQL_DIR, Settings
from service.db import create_engine
from tests.conftest import make_app, make_settings

EXAMPLE = {
    "count": 2,
    "visits": [
        {
            "store_id": "RP00001",
            "image_url": ["https://example.com/2.jpg", "https://example.com/3.jpg"],
            "visit_time": "2026-11-21T10:00:00+05:30",
        },
        {
            "store_id": "RP00002",
            "image_url": ["https://example.com/3.jpg"],
            "visit_time": "2026-11-21 10:05:00",
        },
    ],
}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Litestar]]:
    """One app for the many read-only contract cases (a fresh app per case is slow)."""
    tmp = tmp_path_factory.mktemp("submit")
    with TestClient(app=make_app(make_settings(tmp)), raise_server_exceptions=False) as client:
        yield client


def rows(settings: Settings, sql: str, job_id: int) -> list[dict[str, Any]]:
    engine = create_engine(settings.database_url, SQL_DIR)
    try:
        return engine.read(lambda session: session.raw(sql, {"job_id": job_id}))
    finally:
        engine.close()


@pytest.mark.parametrize("path", ["/api/submit/", "/api/submit"])
def test_example_payload_is_stored_and_ongoing(
    client: TestClient[Litestar], settings: Settings, path: str
) -> None:
    response = client.post(path, json=EXAMPLE)
    assert response.status_code == 201
    body = response.json()
    assert list(body) == ["job_id"] and isinstance(body["job_id"], int)
    job_id = body["job_id"]

    status = client.get(f"/api/status?jobid={job_id}")
    assert status.status_code == 200
    assert status.json() == {"job_id": job_id, "status": "ongoing"}

    images = rows(
        settings,
        "SELECT seq, visit_index, url, status FROM job_images WHERE job_id = :job_id ORDER BY seq",
        job_id,
    )
    assert [(r["visit_index"], r["url"], r["status"]) for r in images] == [
        (0, "https://example.com/2.jpg", "pending"),
        (0, "https://example.com/3.jpg", "pending"),
        (1, "https://example.com/3.jpg", "pending"),
    ]
    visits = rows(
        settings,
        "SELECT store_id, visit_time, utc_offset_minutes FROM job_visits"
        " WHERE job_id = :job_id ORDER BY visit_index",
        job_id,
    )
    assert [(v["store_id"], str(v["visit_time"]), v["utc_offset_minutes"]) for v in visits] == [
        ("RP00001", "2026-11-21 10:00:00", 330),
        ("RP00002", "2026-11-21 10:05:00", None),
    ]


def test_job_ids_are_distinct(shared: TestClient[Litestar]) -> None:
    ids = {shared.post("/api/submit", json=EXAMPLE).json()["job_id"] for _ in range(3)}
    assert len(ids) == 3


def _with(change: Any) -> bytes:
    body = json.loads(json.dumps(EXAMPLE))
    change(body)
    return json.dumps(body).encode()


def _set(path: list[Any], value: Any) -> Any:
    def change(body: Any) -> None:
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


def _delete(path: list[Any]) -> Any:
    def change(body: Any) -> None:
        target = body
        for key in path[:-1]:
            target = target[key]
        del target[path[-1]]

    return change


BAD_BODIES = {
    "not json": (b"{not json", "body: not valid JSON"),
    "empty body": (b"", "body:"),
    "array": (b"[1, 2]", "body: expected object, got array"),
    "string": (b'"hello"', "body: expected object, got str"),
    "count missing": (_with(_delete(["count"])), "count: required field is missing"),
    "visits missing": (_with(_delete(["visits"])), "visits: required field is missing"),
    "count mismatch": (_with(_set(["count"], 3)), "count: is 3 but visits has 2 entries"),
    "count zero": (b'{"count": 0, "visits": []}', "count: must be at least 1"),
    "count negative": (b'{"count": -1, "visits": []}', "count: must be at least 1"),
    "count as string": (_with(_set(["count"], "2")), "count: expected int, got str"),
    "visits not a list": (_with(_set(["visits"], {})), "visits: expected array, got object"),
    "visit not an object": (_with(_set(["visits", 1], "RP1")), "visits[1]: expected object"),
    "store_id missing": (
        _with(_delete(["visits", 1, "store_id"])),
        "visits[1].store_id: required field is missing",
    ),
    "image_url missing": (
        _with(_delete(["visits", 0, "image_url"])),
        "visits[0].image_url: required field is missing",
    ),
    "visit_time missing": (
        _with(_delete(["visits", 1, "visit_time"])),
        "visits[1].visit_time: required field is missing",
    ),
    "store_id wrong type": (
        _with(_set(["visits", 1, "store_id"], 17)),
        "visits[1].store_id: expected str, got int",
    ),
    "store_id empty": (_with(_set(["visits", 0, "store_id"], " ")), "visits[0].store_id:"),
    "image_url wrong type": (
        _with(_set(["visits", 0, "image_url"], "https://example.com/2.jpg")),
        "visits[0].image_url: expected array, got str",
    ),
    "image_url item wrong type": (
        _with(_set(["visits", 1, "image_url"], [5])),
        "visits[1].image_url[0]: expected str, got int",
    ),
    "visit_time wrong type": (
        _with(_set(["visits", 0, "visit_time"], 1763700000)),
        "visits[0].visit_time: expected str, got int",
    ),
    "image_url empty": (
        _with(_set(["visits", 1, "image_url"], [])),
        "visits[1].image_url: must list at least one URL",
    ),
    "url not http": (
        _with(_set(["visits", 0, "image_url", 1], "ftp://example.com/3.jpg")),
        "visits[0].image_url[1]: must be an http(s) URL",
    ),
    "url not a url": (
        _with(_set(["visits", 1, "image_url", 0], "example.com/3.jpg")),
        "visits[1].image_url[0]: must be an http(s) URL",
    ),
    "url without host": (
        _with(_set(["visits", 1, "image_url", 0], "http:///3.jpg")),
        "visits[1].image_url[0]: has no host",
    ),
    "url with a bad port": (
        _with(_set(["visits", 0, "image_url", 0], "https://example.com:99999/2.jpg")),
        "visits[0].image_url[0]: not a valid URL",
    ),
    "url too long": (
        _with(_set(["visits", 1, "image_url", 0], "https://example.com/" + "a" * 2030)),
        "visits[1].image_url[0]: longer than 2048 characters",
    ),
    "visit_time not iso": (
        _with(_set(["visits", 1, "visit_time"], "21/11/2026 10:05")),
        "visits[1].visit_time: not an ISO-8601 date and time",
    ),
    "visit_time date only": (
        _with(_set(["visits", 0, "visit_time"], "2026-11-21")),
        "visits[0].visit_time: not an ISO-8601 date and time",
    ),
    "unknown field": (_with(_set(["visits", 0, "photo"], "x")), "visits[0].photo: unknown field"),
    # Python 3.11's fromisoformat stops at a NUL: the rest must not be ignored (issue 18).
    "visit_time trailing NUL": (
        _with(_set(["visits", 0, "visit_time"], "2026-11-21T10:00:00\u0000")),
        "visits[0].visit_time: contains a control character (U+0000)",
    ),
    "visit_time NUL then text": (
        _with(_set(["visits", 1, "visit_time"], "2026-11-21T10:00:00\u0000+05:30")),
        "visits[1].visit_time: contains a control character (U+0000)",
    ),
    "visit_time tab": (
        _with(_set(["visits", 0, "visit_time"], "\t2026-11-21T10:00:00")),
        "visits[0].visit_time: contains a control character (U+0009)",
    ),
    "visit_time newline": (
        _with(_set(["visits", 0, "visit_time"], "2026-11-21T10:00:00\n")),
        "visits[0].visit_time: contains a control character (U+000A)",
    ),
    "visit_time DEL": (
        _with(_set(["visits", 0, "visit_time"], "2026-11-21T10:00:00\u007f")),
        "visits[0].visit_time: contains a control character (U+007F)",
    ),
    "visit_time C1 control": (
        _with(_set(["visits", 0, "visit_time"], "2026-11-21T10:00:00\u0085")),
        "visits[0].visit_time: contains a control character (U+0085)",
    ),
}


@pytest.mark.parametrize("case", list(BAD_BODIES), ids=list(BAD_BODIES))
def test_bad_bodies_get_400_naming_the_field(shared: TestClient[Litestar], case: str) -> None:
    body, expected = BAD_BODIES[case]
    response = shared.post(
        "/api/submit/", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400, response.text
    assert list(response.json()) == ["error"]
    assert expected in response.json()["error"]


def test_url_of_exactly_2048_characters_is_accepted(shared: TestClient[Litestar]) -> None:
    url = "https://example.com/" + "a" * (2048 - len("https://example.com/"))
    body = _with(_set(["visits", 1, "image_url", 0], url))
    assert shared.post("/api/submit", content=body).status_code == 201


@pytest.mark.parametrize(
    "when",
    [
        "2026-11-21T10:00:00Z",
        "2026-11-21T10:00:00.123+05:30",
        "2026-11-21T10:00",
        "2026-11-21 10:05:00",
    ],
)
def test_visit_time_forms_accepted(shared: TestClient[Litestar], when: str) -> None:
    body = _with(_set(["visits", 0, "visit_time"], when))
    assert shared.post("/api/submit", content=body).status_code == 201


def test_more_images_than_max_job_images_is_400(settings: Settings) -> None:
    with TestClient(make_app(settings, max_job_images=2)) as client:
        response = client.post("/api/submit", json=EXAMPLE)  # 3 images
    assert response.status_code == 400
    assert response.json()["error"].startswith("visits: the job has 3 images; at most 2")


def test_body_over_5_mb_is_413_with_the_error_shape(shared: TestClient[Litestar]) -> None:
    filler = "https://example.com/" + "a" * 1000
    visits = [
        {"store_id": "RP00001", "image_url": [filler] * 100, "visit_time": "2026-11-21 10:00:00"}
    ] * 60
    body = json.dumps({"count": 60, "visits": visits}).encode()
    assert len(body) > 5 * 1024 * 1024
    response = shared.post(
        "/api/submit/", content=body, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert list(response.json()) == ["error"]


@pytest.mark.parametrize(
    "query", ["?jobid=999999", "", "?jobid=", "?jobid=abc", "?jobid=1.5", "?jobid=-1"]
)
def test_unknown_missing_or_bad_jobid_is_400_empty_object(
    shared: TestClient[Litestar], query: str
) -> None:
    response = shared.get(f"/api/status{query}")
    assert response.status_code == 400
    assert response.json() == {}


def test_job_report_of_unknown_job_is_404(shared: TestClient[Litestar]) -> None:
    response = shared.get("/api/jobs/424242")
    assert response.status_code == 404
    assert "424242" in response.json()["error"]


def test_submit_is_documented_in_openapi(shared: TestClient[Litestar]) -> None:
    schema = shared.get("/core/public/v1/openapi.json").json()
    submit = schema["paths"]["/api/submit"]["post"]
    body = submit["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["count", "visits"]
    assert body["properties"]["visits"]["items"]["required"] == [
        "store_id",
        "image_url",
        "visit_time",
    ]
    assert "201" in submit["responses"] and "400" in submit["responses"]
    assert "/api/status" in schema["paths"]

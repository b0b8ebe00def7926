"""Every documented limit at its edge: the largest allowed value passes, one more is a 400
with the one error shape. (Body and upload sizes, images per job, pixels, URL length and
usernames have their edge tests beside their features; see the README's limits table.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.catalog.synthetic import tiny_png

UPC = "11000000"  # seeded by tests/fuzz/conftest.py
QA = {"username": "limits"}


@pytest.fixture(scope="module")
def client(fuzz_app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=fuzz_app, raise_server_exceptions=False) as test_client:
        yield test_client


EDGES = [
    # (path with {} for the value, largest allowed, refused values)
    ("/api/products?limit={}", 500, [501, 0]),
    ("/api/snapshots/1/similar?k={}", 100, [101, 0]),
    ("/api/snapshots/1/suggestions?k={}", 100, [101, 0]),
    (f"/api/products/{UPC}/similar?k={{}}", 100, [101, 0]),
    ("/qa/suspects?limit={}", 1000, [1001, 0]),
    ("/qa/products/1/confirmed?limit={}", 12, [13, 0]),
    # a cursor is a row id; these two were 500s ("²" passes str.isdigit)
    ("/api/products?cursor={}", 2**63 - 1, [2**63, "\u00b2", -1]),
    ("/api/snapshots/{}", 2**63 - 1, [2**63, 0]),  # allowed means "looked up": a 404
]


@pytest.mark.parametrize(("path", "largest", "refused"), EDGES)
def test_query_and_path_limits(
    client: TestClient[Litestar], path: str, largest: object, refused: list[object]
) -> None:
    allowed = client.get(path.format(largest), headers=QA)
    assert allowed.status_code in (200, 404), allowed.text
    for value in refused:
        over = client.get(path.format(value), headers=QA)
        assert over.status_code == 400, (value, over.text)
        assert set(over.json()) == {"error"}


def _product(client: TestClient[Litestar], upc: str, name: str):  # noqa: ANN202
    image = ("p.png", tiny_png(int(upc)), "image/png")
    return client.post("/api/products", data={"upc": upc, "name": name}, files={"image": image})


def test_product_name_is_at_most_200_characters(client: TestClient[Litestar]) -> None:
    assert _product(client, "22000001", "n" * 200).status_code == 201
    refused = _product(client, "22000002", "n" * 201)
    assert refused.status_code == 400 and "name" in refused.json()["error"]


def test_search_k_is_at_most_100(client: TestClient[Litestar]) -> None:
    image = {"image": ("q.png", tiny_png(7), "image/png")}
    assert client.post("/api/search?k=100", files=image).status_code == 200
    assert client.post("/api/search?k=101", files=image).status_code == 400


def _job(store_id: str, when: str = "2026-11-21T10:00:00") -> dict:
    visit = {"store_id": store_id, "image_url": ["http://example.com/a.jpg"], "visit_time": when}
    return {"count": 1, "visits": [visit]}


def test_store_id_is_at_most_64_characters(client: TestClient[Litestar]) -> None:
    assert client.post("/api/submit", json=_job("S" * 64)).status_code == 201
    refused = client.post("/api/submit", json=_job("S" * 65))
    assert refused.status_code == 400
    assert refused.json()["error"] == "visits[0].store_id: longer than 64 characters"


@pytest.mark.parametrize(
    ("when", "status"),
    [
        ("1970-01-01T00:00:00", 201),
        ("2999-12-31T23:59:59", 201),
        ("1969-12-31T23:59:59", 400),
        ("3000-01-01T00:00:00", 400),
    ],
)
def test_visit_years_are_1970_to_2999(client: TestClient[Litestar], when: str, status: int) -> None:
    response = client.post("/api/submit", json=_job("RP00001", when))
    assert response.status_code == status, response.text


@pytest.mark.parametrize(
    "query",
    ["startdate=0001-01-01", "enddate=9999-12-31", "startdate=0001-01-01&enddate=9999-12-31",
     "startdate=1970-01-01&enddate=2999-12-31"],
)  # fmt: skip
def test_visit_dates_at_the_ends_of_the_calendar(client: TestClient[Litestar], query: str) -> None:
    """Any valid date is a bound (9999-12-31 was a 500: it has no next day)."""
    everything = client.get("/api/visits").json()
    assert everything["results"], "the seeded job has completed visits"
    response = client.get(f"/api/visits?{query}")
    assert response.status_code == 200, response.text
    assert response.json() == everything

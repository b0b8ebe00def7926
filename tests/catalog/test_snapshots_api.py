"""Snapshots: upload against a product, read back with votes and status."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import TestClient

from tests.catalog.conftest import add_snapshot, create_product, image_bytes


def test_add_and_get_snapshot(client: TestClient[Litestar]) -> None:
    product = create_product(client, upc="12345678").json()
    image = image_bytes((30, 50), "WEBP")
    response = add_snapshot(client, "12345678", image=image, filename="aisle3/IMG_1.webp")
    assert response.status_code == 201
    body = response.json()
    assert isinstance(body["snapshot_id"], int)
    assert body["product"] == {
        "id": product["id"], "upc": "12345678", "name": product["name"],
        "image_url": product["image_url"],
    }  # fmt: skip
    assert (body["image_width"], body["image_height"], body["image_format"]) == (30, 50, "WEBP")
    assert body["source"] == "aisle3/IMG_1.webp"
    assert body["status"] == "pending"
    assert body["votes"] == {"match": 0, "mismatch": 0}
    assert client.get(body["image_url"]).content == image
    assert client.get(f"/api/snapshots/{body['snapshot_id']}").json() == body
    assert client.get("/api/products/12345678").json()["snapshot_count"] == 1


def test_filename_defaults_to_the_uploaded_name(client: TestClient[Litestar]) -> None:
    create_product(client, upc="12345678")
    assert add_snapshot(client, "12345678").json()["source"] == "shelf.jpg"


def test_snapshot_refusals(client: TestClient[Litestar]) -> None:
    unknown = add_snapshot(client, "99999999")
    assert unknown.status_code == 404
    assert "99999999" in unknown.json()["error"]
    create_product(client, upc="12345678")
    assert add_snapshot(client, "12345678", image=b"not an image").status_code == 400
    assert add_snapshot(client, "12345678", image=b"").status_code == 400
    assert add_snapshot(client, "1234").status_code == 404  # not a UPC: no such product
    too_long = add_snapshot(client, "12345678", filename="x" * 256)
    assert too_long.status_code == 400
    assert client.get("/api/products/12345678").json()["snapshot_count"] == 0


def test_get_unknown_snapshot(client: TestClient[Litestar]) -> None:
    response = client.get("/api/snapshots/12345")
    assert response.status_code == 404
    assert "12345" in response.json()["error"]

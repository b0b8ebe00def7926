"""Products: create (multipart), read, keyset pages, and every refusal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.config import Settings
from tests.catalog.conftest import create_product, image_bytes
from tests.conftest import make_app


def test_create_product(client: TestClient[Litestar]) -> None:
    image = image_bytes((64, 48), "PNG")
    response = create_product(client, upc="12345678", name="Kettle Chips", image=image)
    assert response.status_code == 201
    body = response.json()
    assert body["upc"] == "12345678" and body["name"] == "Kettle Chips"
    assert (body["image_width"], body["image_height"], body["image_format"]) == (64, 48, "PNG")
    assert body["snapshot_count"] == 0
    stored = client.get(body["image_url"])
    assert stored.status_code == 200
    assert stored.content == image  # the uploaded bytes, unchanged
    assert client.get("/api/products/12345678").json() == body


def test_duplicate_upc_is_a_conflict(client: TestClient[Litestar]) -> None:
    assert create_product(client, upc="12345678").status_code == 201
    response = create_product(client, upc="12345678", name="Other")
    assert response.status_code == 409
    assert "12345678" in response.json()["error"]
    assert client.get("/api/products/12345678").json()["name"] == "Sea Salt Chips"


@pytest.mark.parametrize("upc", ["1234567", "123456789012345", "12345abc", "", " 12345678"])
def test_upc_must_be_8_to_14_digits(client: TestClient[Litestar], upc: str) -> None:
    response = create_product(client, upc=upc)
    assert response.status_code == 400
    assert "error" in response.json()


def test_missing_fields_and_bad_files(client: TestClient[Litestar]) -> None:
    no_image = client.post("/api/products", data={"upc": "12345678", "name": "x"})
    assert no_image.status_code == 400
    no_name = client.post(
        "/api/products", data={"upc": "12345678"}, files={"image": ("a.jpg", image_bytes())}
    )
    assert no_name.status_code == 400
    empty_name = create_product(client, name="")
    assert empty_name.status_code == 400
    not_image = create_product(client, image=b"GIF89a but not really")
    assert not_image.status_code == 400
    assert not_image.json()["error"] == "the file is not a readable image (JPEG, PNG, WebP or GIF)"
    truncated = create_product(client, image=image_bytes((200, 200))[:300])
    assert truncated.status_code == 400
    bmp = create_product(client, image=image_bytes(fmt="BMP"))
    assert bmp.status_code == 400
    assert client.get("/api/products").json()["items"] == []  # nothing was stored


@pytest.fixture
def small_limits(settings: Settings) -> Iterator[TestClient[Litestar]]:
    app = make_app(settings, max_upload_bytes=2048, max_image_pixels=10_000)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        yield client


def test_size_limits(small_limits: TestClient[Litestar]) -> None:
    import os

    noisy = image_bytes((90, 90), "PNG")
    assert len(noisy) < 2048
    assert create_product(small_limits, upc="11111111", image=noisy).status_code == 201
    # a file over MAX_UPLOAD_BYTES, refused from its Content-Length before it is read
    big = create_product(small_limits, upc="22222222", image=os.urandom(200_000))
    assert big.status_code == 413
    assert "limit" in big.json()["error"]
    # just over the byte limit but inside the multipart allowance: refused after reading
    over = create_product(small_limits, upc="33333333", image=b"\xff\xd8" + os.urandom(3000))
    assert over.status_code == 413
    # small in bytes, too many pixels
    wide = create_product(small_limits, upc="44444444", image=image_bytes((200, 200), "PNG"))
    assert wide.status_code == 413
    assert "pixels" in wide.json()["error"]


def test_upload_without_content_length_is_refused(client: TestClient[Litestar]) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"--x\r\n"

    response = client.post(
        "/api/products", content=chunks(),
        headers={"content-type": "multipart/form-data; boundary=x"},
    )  # fmt: skip
    assert response.status_code == 411
    assert "Content-Length" in response.json()["error"]


def test_get_unknown_product(client: TestClient[Litestar]) -> None:
    response = client.get("/api/products/99999999")
    assert response.status_code == 404
    assert "99999999" in response.json()["error"]
    assert client.get("/api/products/not-a-upc").status_code == 404


def test_keyset_pagination(client: TestClient[Litestar]) -> None:
    upcs = [f"1000000{i}" for i in range(5)]
    for upc in upcs:
        assert create_product(client, upc=upc).status_code == 201
    seen, cursor, pages = [], None, 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/products", params=params)
        assert page.status_code == 200
        body = page.json()
        seen += [item["upc"] for item in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == upcs
    assert pages == 3
    everything = client.get("/api/products").json()
    assert [i["upc"] for i in everything["items"]] == upcs and everything["next_cursor"] is None


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "limit=x", "cursor=abc", "cursor=-1"])
def test_bad_page_parameters(client: TestClient[Litestar], query: str) -> None:
    response = client.get(f"/api/products?{query}")
    assert response.status_code == 400
    assert "error" in response.json()

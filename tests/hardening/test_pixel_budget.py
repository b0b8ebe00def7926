"""One pixel budget per process (issue 18, items 2 and 3): an upload or a search whose image
cannot get its pixels within PIXEL_WAIT answers 503 with Retry-After, and decodes what it
gets its turn; damaged and hostile uploads are refused as before."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.config import Settings
from service.imaging import pixel_budget
from tests import hostile_images as hostile
from tests.conftest import make_app

PHOTO = hostile.photo(64, 48)


@pytest.fixture
def busy_client(settings: Settings) -> Iterator[TestClient[Litestar]]:
    app = make_app(settings, pixel_budget=1_000_000, pixel_wait=0.05, max_image_pixels=5_000_000)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        yield client


def _search(client: TestClient[Litestar], image: bytes = PHOTO):  # type: ignore[no-untyped-def]
    return client.post("/api/search", files={"image": ("p.jpg", image, "image/jpeg")})


def _product(client: TestClient[Litestar], upc: str = "12345678"):  # type: ignore[no-untyped-def]
    return client.post(
        "/api/products",
        data={"upc": upc, "name": "Chips"},
        files={"image": ("p.jpg", PHOTO, "image/jpeg")},
    )


def test_a_search_or_upload_that_finds_the_budget_full_gets_503_with_retry_after(
    busy_client: TestClient[Litestar],
) -> None:
    budget = pixel_budget()
    assert budget.capacity == 1_000_000  # PIXEL_BUDGET, set at start
    with budget.reserve(budget.capacity, timeout=0):  # another decode holds it all
        for response in (_search(busy_client), _product(busy_client)):
            assert response.status_code == 503
            assert response.json() == {"error": "busy decoding other images, retry later"}
            assert response.headers["retry-after"] == "1"
    assert budget.in_use == 0
    # Nothing half-written: the refused product does not exist, and can be created now.
    assert busy_client.get("/api/products/12345678").status_code == 404
    assert _search(busy_client).status_code == 200
    assert _product(busy_client).status_code == 201
    assert budget.in_use == 0


# What a search answers for each damaged file of the issue. The two JPEGs whose data ends
# early are taken by a full decode (libjpeg pads the rest with grey), as they always were for
# uploads; job images are checked harder (service/jobs/imaging.py).
UPLOAD_STATUS = {
    "png-1x1-claiming-4000x3000": 413,  # over MAX_IMAGE_PIXELS here, from the header
    "png-cut-iend-in-text": 400,
    "half-jpeg-then-whole": 400,
    "webp-40-valid-bytes-then-random": 400,
    "jpeg-frame-7000x7000-over-640x480": 413,
    "jpeg-625-bytes-no-scan-data": 200,
    "jpeg-cut-with-end-marker": 200,
}


@pytest.mark.parametrize("name", list(hostile.DAMAGED))
def test_damaged_uploads_are_refused_and_leave_no_pixels_held(
    busy_client: TestClient[Litestar], name: str
) -> None:
    response = _search(busy_client, hostile.DAMAGED[name]())
    assert response.status_code == UPLOAD_STATUS[name], response.text
    assert pixel_budget().in_use == 0


def test_a_header_too_complex_upload_is_400_at_once(busy_client: TestClient[Litestar]) -> None:
    response = _search(busy_client, hostile.jpeg_many_segments(200_000))
    assert response.status_code == 400
    assert "header too complex" in response.json()["error"]

"""What probing by hand found, pinned as plain tests: each of these was a 500, a late failure
or a silent change of the input, and is now a 400 that says what is expected."""

from __future__ import annotations

from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.catalog.conftest import create_product, image_bytes

UPC = "012345678905"
UPLOAD_ROUTES = [f"/api/products/{UPC}/snapshots", "/api/search", "/api/products"]
NOT_UTF8 = image_bytes(fmt="PNG")  # a PNG's signature byte 0x89 is not UTF-8
BOUNDARY = "probe-boundary"
VERDICT = {"headers": {"username": "alice"}}


@pytest.fixture
def catalog(client: TestClient[Litestar]) -> TestClient[Litestar]:
    assert create_product(client, upc=UPC).status_code == 201
    return client


def _multipart(disposition: str, content: bytes, **fields: str) -> dict[str, Any]:
    """A form written by hand: what `curl -F 'image=<photo.png'` and broken clients send."""
    parts = [
        f"Content-Disposition: form-data; {disposition}\r\nContent-Type: image/png\r\n\r\n".encode()
        + content
    ]
    parts += [
        f'Content-Disposition: form-data; name="{name}"\r\n\r\n{value}'.encode()
        for name, value in fields.items()
    ]
    delimiter = f"--{BOUNDARY}\r\n".encode()
    body = b"".join(delimiter + part + b"\r\n" for part in parts) + f"--{BOUNDARY}--\r\n".encode()
    return {
        "content": body,
        "headers": {"content-type": f"multipart/form-data; boundary={BOUNDARY}"},
    }


@pytest.mark.parametrize("route", UPLOAD_ROUTES)
@pytest.mark.parametrize(
    "disposition",
    ['name="image"', 'name="image"; filename="photo.png', 'name="image"; filename=""'],
    ids=["no filename", "unterminated filename", "empty filename"],
)
def test_an_image_part_without_a_filename_is_a_400(
    catalog: TestClient[Litestar], route: str, disposition: str
) -> None:
    fields = {"upc": "99999999", "name": "Chips"} if route == "/api/products" else {}
    response = catalog.post(route, **_multipart(disposition, NOT_UTF8, **fields))
    assert response.status_code == 400, response.text
    assert "filename" in response.json()["error"]


@pytest.mark.parametrize("route", UPLOAD_ROUTES)
@pytest.mark.parametrize(
    ("charset", "content"),
    [("bogus", b"text"), ("zlib", b"text"), ("punycode", b"...")],
    ids=["unknown charset", "not a text encoding", "refused by its codec"],
)
def test_a_text_part_in_a_charset_that_cannot_decode_it_is_a_400(
    catalog: TestClient[Litestar], route: str, charset: str, content: bytes
) -> None:
    form = _multipart('name="image"', content)
    form["content"] = form["content"].replace(
        b"Content-Type: image/png", f"Content-Type: text/plain; charset={charset}".encode()
    )
    response = catalog.post(route, **form)
    assert response.status_code == 400, response.text
    assert "known charset" in response.json()["error"]


def test_a_text_part_that_is_utf8_is_still_a_400_not_an_image(
    catalog: TestClient[Litestar],
) -> None:
    response = catalog.post("/api/search", **_multipart('name="image"', b"just text"))
    assert response.status_code == 400, response.text
    assert set(response.json()) == {"error"}


def test_the_same_image_with_a_filename_is_accepted(catalog: TestClient[Litestar]) -> None:
    part = _multipart('name="image"; filename="photo.png"', NOT_UTF8)
    assert catalog.post(UPLOAD_ROUTES[0], **part).status_code == 201


# -- submit -----------------------------------------------------------------------------------


def _job(url: str = "https://example.com/a.png", when: str = "2026-11-21T10:00:00") -> dict:
    return {"count": 1, "visits": [{"store_id": "RP00001", "image_url": [url], "visit_time": when}]}


@pytest.mark.parametrize(
    "host",
    ["a..b", ".a", "x" * 64 + ".example.com", "a." + "b" * 64, "..", "a...b"],
)
def test_hosts_with_empty_or_overlong_labels_are_a_400(
    client: TestClient[Litestar], host: str
) -> None:
    response = client.post("/api/submit", json=_job(f"http://{host}/x.png"))
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("visits[0].image_url[0]: ")


@pytest.mark.parametrize(
    "host", ["0177.0.0.1", "127.000.000.001", "010.1.1.1", "127.1", "2130706433", "0x7f.0.0.1"]
)
def test_ipv4_hosts_not_in_plain_dotted_decimal_are_a_400(
    client: TestClient[Litestar], host: str
) -> None:
    response = client.post("/api/submit", json=_job(f"http://{host}/x.png"))
    assert response.status_code == 400, response.text
    assert "IPv4" in response.json()["error"]


@pytest.mark.parametrize(
    "host",
    ["example.com", "example.com.", "x" * 63 + ".example.com", "8.8.8.8", "a-b.c-d.example",
     "xn--bcher-kva.example", "bücher.example", "[2001:db8::1]"],
)  # fmt: skip
def test_ordinary_hosts_are_still_accepted(client: TestClient[Litestar], host: str) -> None:
    response = client.post("/api/submit", json=_job(f"https://{host}/x.png"))
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    "when",
    [
        "2026-11-21T10:00:00-00:00:30",
        "2026-11-21T10:00:00+05:30:15",
        "2026-11-21T10:00:00+01:00:00.5",
    ],
)
def test_visit_time_offsets_with_seconds_are_a_400(client: TestClient[Litestar], when: str) -> None:
    response = client.post("/api/submit", json=_job(when=when))
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith("visits[0].visit_time: ")
    assert "whole minutes" in response.json()["error"]


def test_a_whole_minute_offset_written_with_seconds_is_kept(client: TestClient[Litestar]) -> None:
    response = client.post("/api/submit", json=_job(when="2026-11-21T10:00:00+05:30:00"))
    assert response.status_code == 201, response.text
    report = client.get(f"/api/jobs/{response.json()['job_id']}").json()
    assert report["visits"][0]["visit_time"] == "2026-11-21T10:00:00+05:30"


def test_duplicate_keys_in_a_submit_body_are_a_400(client: TestClient[Litestar]) -> None:
    body = (
        b'{"count": 1, "count": 1, "visits": [{"store_id": "RP00001", "visit_time": '
        b'"2026-11-21T10:00:00", "image_url": ["https://example.com/a.png"]}]}'
    )
    response = client.post("/api/submit", content=body)
    assert response.status_code == 400, response.text
    assert response.json() == {"error": "body: the key 'count' appears twice in one object"}
    nested = body.replace(b'"count": 1, "count": 1', b'"count": 1').replace(
        b'"store_id": "RP00001"', b'"store_id": "RP00001", "store_id": "RP00002"'
    )
    response = client.post("/api/submit", content=nested)
    assert response.status_code == 400, response.text
    assert "'store_id' appears twice" in response.json()["error"]


# -- QA verdicts ------------------------------------------------------------------------------


@pytest.fixture
def open_snapshot(catalog: TestClient[Litestar]) -> str:
    """The PATCH URL of one snapshot in alice's open session."""
    for _ in range(3):
        assert catalog.post(
            f"/api/products/{UPC}/snapshots", files={"image": ("s.jpg", image_bytes())}
        ).status_code == 201  # fmt: skip
    session = catalog.post("/qa/session", **VERDICT).json()
    return f"/qa/session/{session['session_id']}/snapshot/{session['snapshots'][0]['snapshot_id']}"


def test_an_empty_verdict_body_says_what_is_expected(
    catalog: TestClient[Litestar], open_snapshot: str
) -> None:
    response = catalog.patch(open_snapshot, content=b"", **VERDICT)
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith('the body must be exactly {"is_match": true|false}')
    assert "'data'" not in response.json()["error"]


def test_a_verdict_with_the_key_twice_is_a_400_and_not_counted(
    catalog: TestClient[Litestar], open_snapshot: str
) -> None:
    twice = b'{"is_match": true, "is_match": false}'
    response = catalog.patch(open_snapshot, content=twice, **VERDICT)
    assert response.status_code == 400, response.text
    assert "'is_match' appears twice" in response.json()["error"]
    # Not recorded: the proper verdict is still taken.
    assert catalog.patch(open_snapshot, json={"is_match": False}, **VERDICT).status_code == 200

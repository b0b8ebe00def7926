"""The QA page's routes without a browser: the HTML, its assets, and confirmed snapshots."""

from __future__ import annotations

import re
import sqlite3

from litestar import Litestar
from litestar.testing import TestClient

from service.config import Settings
from tests.e2e.conftest import packaging, png

USER = {"username": "qa.tester"}


def test_the_page_links_its_assets_by_content_hash(client: TestClient[Litestar]) -> None:
    page = client.get("/qa/")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert "script-src 'self'" in page.headers["content-security-policy"]
    links = re.findall(r'"/qa/static/([0-9a-f]{12})/([^"/]+)"', page.text)
    assert len({version for version, _ in links}) == 1
    version = links[0][0]
    names = [name for _, name in links]
    assert names[0] == "qa.css" and names[-1] == "main.js"
    assert client.get("/qa").text == page.text
    for name in names:
        asset = client.get(f"/qa/static/{version}/{name}")
        assert asset.status_code == 200
        assert "immutable" in asset.headers["cache-control"]
        assert asset.headers["x-content-type-options"] == "nosniff"
        assert asset.content
    # Another release's URL still gets today's file, but not for a year.
    assert client.get(f"/qa/static/{version[::-1]}/qa.css").headers["cache-control"] == "no-cache"
    assert client.get(f"/qa/static/{version}/index.html").status_code == 404
    assert client.get(f"/qa/static/{version}/..%2F..%2Fapp.py").status_code == 404
    assert client.get(f"/qa/static/{version}/..%2Fqa.css").status_code == 404


def test_the_qa_api_paths_are_untouched(client: TestClient[Litestar]) -> None:
    assert client.get("/qa/session", headers=USER).json() == {"error": "No open session"}
    assert client.get("/qa/leaderboard", headers=USER).status_code == 200


def test_confirmed_snapshots_are_the_products_match_snapshots_newest_first(
    client: TestClient[Litestar], settings: Settings
) -> None:
    pack = png(packaging("Test Pack", (200, 60, 60), size=(64, 64)))
    created = client.post(
        "/api/products",
        data={"upc": "12345678", "name": "Test Pack"},
        files={"image": ("p.png", pack, "image/png")},
    )
    assert created.status_code == 201, created.text
    product_id = created.json()["id"]
    ids = []
    for n in range(6):
        image = png(packaging(f"shot {n}", (200, 60 + 20 * n, 60), size=(64, 64)))
        added = client.post(
            "/api/products/12345678/snapshots", files={"image": (f"{n}.png", image, "image/png")}
        )
        assert added.status_code == 201, added.text
        ids.append(added.json()["snapshot_id"])
    url = f"/qa/products/{product_id}/confirmed"
    assert client.get(url, headers=USER).json() == []

    con = sqlite3.connect(settings.database_url.removeprefix("sqlite:///"))
    with con:
        con.executemany(
            "UPDATE snapshots SET status = ? WHERE id = ?",
            [("match", ids[0]), ("match", ids[2]), ("mismatch", ids[3]), ("match", ids[4]),
             ("match", ids[5])],
        )  # fmt: skip
    con.close()

    confirmed = client.get(url, headers=USER).json()
    assert [c["snapshot_id"] for c in confirmed] == [ids[5], ids[4], ids[2]]
    for item in confirmed:
        assert client.get(item["image_url"]).status_code == 200
    two = client.get(url, params={"limit": 2}, headers=USER).json()
    assert [c["snapshot_id"] for c in two] == [ids[5], ids[4]]
    assert client.get(url, params={"limit": 13}, headers=USER).status_code == 400
    assert client.get(url).status_code == 400  # the username header, like every /qa request
    assert client.get(f"/qa/products/{product_id + 1}/confirmed", headers=USER).json() == []

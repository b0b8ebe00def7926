"""The desk's reads on the demo catalog (embedded and scored, 12 snapshots attributed to the
wrong product): suspects and their pages, a move heard by the similarity side at once,
products by search and in view (confusions), recent moves, thumbnails."""

from __future__ import annotations

from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image

from tests.lead.conftest import lead

Client = TestClient[Litestar]


def truth(client: Client) -> dict[int, int]:
    """snapshot id -> the product it really shows, for the mis-attributed ones."""
    app: Any = client.app
    db = app.state.services.db
    rows = client.blocking_portal.call(db.fetch_all, "catalog_truth")
    return {r["snapshot_id"]: r["true_product_id"] for r in rows if r["true_product_id"]}


def page(client: Client, **params: Any) -> dict[str, Any]:
    response = client.get("/api/lead/suspects", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def test_suspects_page_by_page_and_accepting_the_suggestions(demo_client: Client) -> None:
    client = demo_client
    wrong = {sid: pid for sid, pid in truth(client).items()}
    first = page(client, limit=12)
    tiles = first["items"]
    assert len(tiles) == 12 and first["next_cursor"]
    scores = [t["suspicion"] for t in tiles]
    assert scores == sorted(scores, reverse=True)
    tile = tiles[0]
    assert tile["thumb_url"].startswith("/thumbs/") and tile["product"]["thumb_url"]
    assert tile["suggested"]["score"] > 0 and tile["votes"] == {"match": 0, "mismatch": 0}
    # Most of the top are really mis-attributed, and the suggestion is their true product.
    right = [t for t in tiles if wrong.get(t["snapshot_id"]) == t["suggested"]["id"]]
    assert len(right) >= 10

    second = page(client, limit=12, cursor=first["next_cursor"])
    assert not {t["snapshot_id"] for t in second["items"]} & {t["snapshot_id"] for t in tiles}
    assert second["items"][0]["suspicion"] <= tiles[-1]["suspicion"]

    # Accept each right suggestion: the snapshot leaves the suspects (a lead reviewed it) and
    # its suspicion is scored again for the new attribution at once.
    for t in right:
        moved = client.patch(
            f"/api/snapshots/{t['snapshot_id']}",
            json={"product_upc": t["suggested"]["upc"], "version": t["version"]},
            headers=lead(),
        )
        assert moved.status_code == 200, moved.text
    after = {t["snapshot_id"] for t in page(client, limit=200)["items"]}
    assert not after & {t["snapshot_id"] for t in right}
    legacy = client.get("/qa/suspects", params={"limit": 1000}, headers={"username": "x"})
    assert not {s["snapshot_id"] for s in legacy.json()} & {t["snapshot_id"] for t in right}
    app: Any = client.app
    db = app.state.services.db
    for t in right:
        row = client.blocking_portal.call(
            db.fetch_one, "lead_snapshot", {"snapshot_id": t["snapshot_id"]}
        )
        scored = client.blocking_portal.call(
            db.fetch_all, "similarity_suspects", {"model": "pack-features:1", "status": "",
                                                  "limit": 1000},
        )  # fmt: skip
        assert row["product_id"] == t["suggested"]["id"]
        assert t["snapshot_id"] not in {s["snapshot_id"] for s in scored}  # reviewed
    # The suggestions already see the new label: the moved snapshot's neighbours now vote
    # for the product it was moved to, its suggestion for itself being that product.
    one = right[0]
    suggestions = client.get(f"/api/snapshots/{one['snapshot_id']}/suggestions").json()
    assert suggestions["product"]["id"] == one["suggested"]["id"]
    assert suggestions["suggestions"][0]["attributed"] is True


def test_suspects_filter_by_status_and_product(demo_client: Client) -> None:
    client = demo_client
    top = page(client, limit=1)["items"][0]
    upc = top["product"]["upc"]
    mine = page(client, product=upc, limit=200)["items"]
    assert mine and all(
        upc in (t["product"]["upc"], (t["suggested"] or {}).get("upc")) for t in mine
    )
    assert page(client, status="match")["items"] == []  # nothing settled in the demo
    assert len(page(client, status="pending", limit=5)["items"]) == 5
    assert client.get("/api/lead/suspects", params={"product": "99999999"}).status_code == 404
    for bad in ({"cursor": "x"}, {"limit": 0}, {"status": "maybe"}, {"product": "12"}):
        response = client.get("/api/lead/suspects", params=bad)
        assert response.status_code == 400, (bad, response.text)


def test_product_search_view_and_history(demo_client: Client) -> None:
    client = demo_client
    products = client.get("/api/lead/products", params={"q": ""}).json()
    assert products and products == sorted(products, key=lambda p: (p["name"], p["id"]))
    name = products[0]["name"]
    found = client.get("/api/lead/products", params={"q": name[2:8].upper()}).json()
    assert name in [p["name"] for p in found]
    by_upc = client.get("/api/lead/products", params={"q": products[0]["upc"][:6]}).json()
    assert products[0]["upc"] in [p["upc"] for p in by_upc]

    top = page(client, limit=1)["items"][0]
    view = client.get(f"/api/lead/products/{top['product']['upc']}").json()
    assert view["product"]["upc"] == top["product"]["upc"]
    groups = {g["status"]: g for g in view["groups"]}
    assert set(groups) == {"pending", "match", "mismatch"}
    assert groups["pending"]["count"] == len(groups["pending"]["snapshots"]) > 0
    confused = {c["product"]["id"]: c for c in view["confusions"]}
    assert top["suggested"]["id"] in confused
    pair = confused[top["suggested"]["id"]]
    assert pair["snapshots"] >= 1 and top["snapshot_id"] in [
        e["snapshot_id"] for e in pair["examples"]
    ]
    assert client.get("/api/lead/products/99999999").status_code == 404
    assert client.get("/api/lead/products/12ab").status_code == 400

    # Recent moves, a page at a time, latest first.
    tiles = page(client, limit=3)["items"]
    for t in tiles:
        assert client.patch(
            f"/api/snapshots/{t['snapshot_id']}",
            json={"product_upc": t["suggested"]["upc"], "version": t["version"], "reason": "desk"},
            headers=lead(),
        ).status_code == 200  # fmt: skip
    first = client.get("/api/lead/moves", params={"limit": 2}).json()
    assert [m["snapshot_id"] for m in first["items"]] == [t["snapshot_id"] for t in tiles][::-1][:2]
    rest = client.get("/api/lead/moves", params={"limit": 2, "cursor": first["next_cursor"]})
    assert [m["snapshot_id"] for m in rest.json()["items"]] == [tiles[0]["snapshot_id"]]
    assert rest.json()["next_cursor"] is None
    assert client.get("/api/lead/moves", params={"cursor": "1_x"}).status_code == 400


def test_thumbnails_are_small_fixed_size_jpegs_cached_for_a_year(demo_client: Client) -> None:
    import io

    tile = page(demo_client, limit=1)["items"][0]
    response = demo_client.get(tile["thumb_url"])
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert "immutable" in response.headers["cache-control"]
    with Image.open(io.BytesIO(response.content)) as image:
        assert image.format == "JPEG" and max(image.size) <= 240
    again = demo_client.get(tile["thumb_url"])
    assert again.content == response.content
    assert demo_client.get("/thumbs/00/00/" + "0" * 64 + ".png").status_code == 404
    assert demo_client.get("/thumbs/not-a-key").status_code == 404

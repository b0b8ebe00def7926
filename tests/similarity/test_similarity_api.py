"""The similarity API over the demo catalog (20 products x 12 snapshots, 12 misattributed)."""

from __future__ import annotations

import math

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.catalog import demo
from service.config import Settings
from service.services import Services
from tests.conftest import make_app
from tests.similarity.conftest import DEMO_PER_PRODUCT, DEMO_PRODUCTS, run

QA_USER = {"username": "ann"}


@pytest.fixture
def truth(demo_settings: Settings) -> dict[int, tuple[int, int]]:
    """snapshot id -> (attributed product id, true product id)."""

    async def read(services: Services) -> dict[int, tuple[int, int]]:
        rows = await services.db.fetch_all("catalog_truth")
        return {r["snapshot_id"]: (r["product_id"], r["true_product_id"]) for r in rows}

    return run(demo_settings, read)


def wrong_ids(truth: dict[int, tuple[int, int]]) -> set[int]:
    return {sid for sid, (attributed, true) in truth.items() if attributed != true}


def test_similar_snapshots_nearest_first_without_itself(demo_client, truth) -> None:
    snapshot_id = next(sid for sid, (a, t) in truth.items() if a == t)
    response = demo_client.get(f"/api/snapshots/{snapshot_id}/similar", params={"k": 4})
    assert response.status_code == 200
    body = response.json()
    assert body["snapshot_id"] == snapshot_id and body["model"] == "efficientnet-lite0:2.1+p1"
    results = body["results"]
    assert len(results) == 4
    assert snapshot_id not in [r["snapshot_id"] for r in results]
    scores = [r["score"] for r in results]
    assert scores == sorted(scores, reverse=True) and scores[0] <= 1.0001
    assert truth[results[0]["snapshot_id"]][1] == truth[snapshot_id][1]  # same pack
    assert results[0]["image_url"].startswith("/images/")
    assert set(results[0]["product"]) == {"id", "upc", "name"}
    assert demo_client.get("/api/snapshots/999999/similar").status_code == 404
    for k in (0, 101):
        response = demo_client.get(f"/api/snapshots/{snapshot_id}/similar", params={"k": k})
        assert response.status_code == 400 and "error" in response.json()


def test_suggestions_put_the_true_product_first(demo_client, truth) -> None:
    right = [sid for sid, (a, t) in truth.items() if a == t][:10]
    for snapshot_id in right:
        body = demo_client.get(f"/api/snapshots/{snapshot_id}/suggestions").json()
        assert len(body["suggestions"]) == 3
        top = body["suggestions"][0]
        assert top["id"] == truth[snapshot_id][0] == body["product"]["id"]
        assert top["attributed"] is True
        assert not any(s["attributed"] for s in body["suggestions"][1:])
        shares = [s["score"] for s in body["suggestions"]]
        # each share rounded to 6 decimals: their sum may pass 1 by up to 3 x 5e-7
        assert shares == sorted(shares, reverse=True) and sum(shares) <= 1.0 + 2e-6
    wrong = sorted(wrong_ids(truth))
    hits = 0
    for snapshot_id in wrong:
        body = demo_client.get(f"/api/snapshots/{snapshot_id}/suggestions?k=1").json()
        hits += body["suggestions"][0]["id"] == truth[snapshot_id][1]
        assert body["suggestions"][0]["attributed"] is (body["suggestions"][0]["id"] ==
                                                        truth[snapshot_id][0])  # fmt: skip
    assert hits >= math.ceil(0.8 * len(wrong))
    assert demo_client.get("/api/snapshots/999999/suggestions").status_code == 404


def test_similar_products_leave_out_the_product_itself(demo_client) -> None:
    upc = demo.products(DEMO_PRODUCTS)[0].upc
    body = demo_client.get(f"/api/products/{upc}/similar", params={"k": 5}).json()
    assert body["upc"] == upc
    assert len(body["results"]) == 5
    assert upc not in [r["upc"] for r in body["results"]]
    scores = [r["score"] for r in body["results"]]
    assert scores == sorted(scores, reverse=True)
    assert demo_client.get("/api/products/99999999999/similar").status_code == 404
    assert demo_client.get("/api/products/not-a-upc/similar").status_code == 404  # not a UPC


def test_search_by_photo_finds_the_product(demo_client) -> None:
    products = demo.products(DEMO_PRODUCTS)
    packs = [demo.pack_image(p) for p in products]
    # New photos (another seed), not stored: what the pack really is decides.
    photos = [demo.DemoSnapshot(i, i, 0) for i in range(0, DEMO_PRODUCTS, 3)]
    found = 0
    for photo in photos:
        image = demo.render(photo, packs, seed=99)
        response = demo_client.post(
            "/api/search", params={"k": 4}, files={"image": ("shelf.jpg", image, "image/jpeg")}
        )
        assert response.status_code == 200
        body = response.json()
        assert len(body["products"]) == 4 and len(body["snapshots"]) == 4
        assert not any(s["attributed"] for s in body["suggestions"])
        found += body["suggestions"][0]["upc"] == products[photo.true_index].upc
    assert found >= len(photos) - 1
    not_image = demo_client.post(
        "/api/search", files={"image": ("x.jpg", b"not an image at all", "image/jpeg")}
    )
    assert not_image.status_code == 400 and "error" in not_image.json()


def test_search_refuses_an_oversized_upload(demo_settings: Settings) -> None:
    app = make_app(demo_settings, max_upload_bytes=2048)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        big = b"\xff" * (2048 + 65 * 1024)
        response = client.post("/api/search", files={"image": ("x.jpg", big, "image/jpeg")})
        assert response.status_code == 413


def test_suspects_rank_the_misattributed_first(demo_client, truth) -> None:
    assert demo_client.get("/qa/suspects").status_code == 400  # no username header
    total = DEMO_PRODUCTS * DEMO_PER_PRODUCT
    top = demo_client.get("/qa/suspects", params={"limit": total // 10}, headers=QA_USER).json()
    assert len(top) == total // 10
    scores = [s["score"] for s in top]
    assert scores == sorted(scores, reverse=True)
    wrong = wrong_ids(truth)
    caught = wrong & {s["snapshot_id"] for s in top}
    assert len(caught) >= math.ceil(0.8 * len(wrong))
    first = top[0]
    assert first["product"]["id"] == truth[first["snapshot_id"]][0]
    assert first["suggested_product"]["id"] != first["product"]["id"]
    assert first["score"] > 0 and first["suggested_share"] > first["own_share"]
    confirmed = demo_client.get("/qa/suspects", params={"status": "match"}, headers=QA_USER)
    assert confirmed.json() == []  # nobody has voted yet
    assert demo_client.get("/qa/suspects?limit=0", headers=QA_USER).status_code == 400


def test_a_snapshot_stored_without_an_embedding_gets_one_on_request(demo_client) -> None:
    pack = demo.pack_image(demo.products(DEMO_PRODUCTS)[4])
    upc = "00000000000017"
    demo_client.post(
        "/api/products",
        data={"upc": upc, "name": "Late addition"},
        files={"image": ("pack.png", demo.png(pack), "image/png")},
    ).raise_for_status()
    photo = demo.render(demo.DemoSnapshot(4, 4, 0), [pack] * 5, seed=5)
    created = demo_client.post(
        f"/api/products/{upc}/snapshots", files={"image": ("s.jpg", photo, "image/jpeg")}
    )
    snapshot_id = created.json()["snapshot_id"]
    similar = demo_client.get(f"/api/snapshots/{snapshot_id}/similar", params={"k": 3})
    assert similar.status_code == 200 and len(similar.json()["results"]) == 3
    alike = demo_client.get(f"/api/products/{upc}/similar", params={"k": 1}).json()
    assert alike["results"][0]["upc"] == demo.products(DEMO_PRODUCTS)[4].upc  # same pack art


@pytest.mark.parametrize("priority", ["suspects", "random"])
def test_qa_priority_suspects_hands_out_suspects_first(
    demo_settings: Settings, priority: str
) -> None:
    size = 5
    app: Litestar = make_app(demo_settings, qa_priority=priority, qa_session_size=size)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        ranked = client.get("/qa/suspects", params={"limit": 1000}, headers=QA_USER).json()
        response = client.post("/qa/session", headers=QA_USER)
        assert response.status_code == 201
        handed = {s["snapshot_id"] for s in response.json()["snapshots"]}
    assert len(handed) == size
    most_suspicious = {s["snapshot_id"] for s in ranked[:size]}  # all pending: nobody voted
    assert (handed == most_suspicious) is (priority == "suspects")

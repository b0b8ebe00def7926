"""The generated demo catalog and its seeder."""

from __future__ import annotations

import io
import sqlite3
import sys

import numpy as np
import pytest
from PIL import Image

from service.catalog import demo
from service.catalog.seed import seed_catalog
from service.config import Settings
from service.db import sqlite_path
from service.services import open_services
from tests.conftest import migrated
from tests.test_progress import Terminal


def test_products_are_distinct() -> None:
    products = demo.products()
    assert len(products) == demo.PRODUCTS == 20
    assert len({p.upc for p in products}) == 20
    assert len({p.name for p in products}) == 20
    assert len({p.colour for p in products}) == 20
    assert len({p.shape for p in products}) == 8
    for product in products:
        assert len(product.upc) == 12
        assert demo.upc_with_check_digit(product.upc[:11]) == product.upc
    # colours far apart: every pair differs by a clear margin in RGB
    colours = np.array([p.colour for p in products], dtype=float)
    distances = np.linalg.norm(colours[:, None] - colours[None, :], axis=-1)
    assert distances[~np.eye(20, dtype=bool)].min() > 40


def test_known_upc_check_digit() -> None:
    assert demo.upc_with_check_digit("03600029145") == "036000291452"


def test_plan_attributes_about_five_percent_to_the_wrong_product() -> None:
    plan = demo.plan()
    assert len(plan) == 1000
    wrong = [s for s in plan if s.true_index != s.product_index]
    assert len(wrong) == 50
    per_product = {i: sum(1 for s in plan if s.product_index == i) for i in range(20)}
    assert set(per_product.values()) == {50}
    assert demo.plan() == plan  # deterministic


def test_snapshots_are_varied_photos_of_their_true_pack() -> None:
    products = demo.products(3)
    packs = [demo.pack_image(p) for p in products]
    plan = demo.plan(3, 4)
    images = [demo.render(s, packs) for s in plan]
    assert images[0] == demo.render(plan[0], packs)  # same inputs, same bytes
    assert len(set(images)) == len(images)
    decoded = [np.asarray(Image.open(io.BytesIO(data)).convert("RGB"), dtype=float)
               for data in images]  # fmt: skip
    assert all(a.shape == (demo.SNAPSHOT, demo.SNAPSHOT, 3) for a in decoded)
    # views of one pack differ from each other (crop, rotation, light, background)
    assert np.abs(decoded[0] - decoded[1]).mean() > 10


def test_seeder_is_idempotent_and_records_the_truth(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio

    async def run(force: bool) -> str:
        async with open_services(settings) as services:
            return await seed_catalog(services, force, products_count=4, per_product=5)

    migrated(settings)
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)  # the bar is drawn only on a terminal
    first = asyncio.run(run(False))
    assert first.startswith("4 product(s) and 20 snapshot(s) added")
    assert "seed catalog" in terminal.getvalue() and "24/24" in terminal.getvalue()
    assert asyncio.run(run(False)).startswith("skipped")
    assert asyncio.run(run(True)).startswith("0 product(s) and 0 snapshot(s) added")
    with sqlite3.connect(sqlite_path(settings.database_url)) as db:
        assert db.execute("SELECT COUNT(*) FROM products").fetchone()[0] == 4
        assert db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0] == 20
        truth = db.execute(
            "SELECT s.product_id, t.true_product_id FROM snapshots s "
            "JOIN snapshot_truth t ON t.snapshot_id = s.id"
        ).fetchall()
    assert len(truth) == 20
    expected_wrong = sum(s.true_index != s.product_index for s in demo.plan(4, 5))
    assert sum(a != b for a, b in truth) == expected_wrong

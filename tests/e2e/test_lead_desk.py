"""The lead's desk in a real browser (Debian's chromium): a small catalog with three
snapshots filed under the wrong product is cleaned with keys only (shift-select, accept,
undo, move through the search box, keep, QA first), then the product view and the history;
and the same desk on a phone, by touch. Screenshots at both sizes go to test-output/.

The catalog is uploaded through the API, so every picture is embedded and scored as it is
stored; the three wrong ones come last, scored against everything else.
"""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import Page, expect  # a dev dependency: never skipped

from service.config import Settings
from tests.conftest import make_app
from tests.e2e.conftest import SCREENSHOTS, _serve, packaging, png, shelf_photo

SHOTS = SCREENSHOTS.parent / "lead-desk"
WAIT = 20_000  # ms for a request of the desk to settle (a loaded machine: no hurry)
# (UPC, name, colour): four products, four photos each, filed right.
PRODUCTS = [
    ("4006381333931", "Sunny Orange Juice 1 L", (242, 140, 40)),
    ("5000112637922", "Cool Mint Toothpaste 75 ml", (40, 150, 200)),
    ("8710398503017", "Crunchy Oat Cereal 500 g", (150, 90, 160)),
    ("7613035974685", "Green Leaf Tea 20 bags", (60, 150, 70)),
]
PER_PRODUCT = 4
# Photos of the first product filed under the second, and so on: (shows, filed under).
WRONG = [(0, 1), (2, 3), (3, 0)]


@dataclass
class LiveDesk:
    url: str
    db_path: Path
    product_ids: dict[str, int] = field(default_factory=dict)  # UPC -> id
    truth: dict[int, int] = field(default_factory=dict)  # snapshot id -> product it shows
    wrong: list[int] = field(default_factory=list)

    def sql(self, text: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        try:
            con.row_factory = sqlite3.Row
            return [dict(row) for row in con.execute(text, params)]
        finally:
            con.close()

    def attribution(self) -> dict[int, int]:
        return {r["id"]: r["product_id"] for r in self.sql("SELECT id, product_id FROM snapshots")}


def _seed(live: LiveDesk) -> None:
    rng = random.Random(19)
    packs = [packaging(name, colour) for _, name, colour in PRODUCTS]
    with httpx.Client(base_url=live.url, timeout=30) as client:
        for (upc, name, _), pack in zip(PRODUCTS, packs, strict=True):
            created = client.post(
                "/api/products",
                data={"upc": upc, "name": name},
                files={"image": (f"{upc}.png", png(pack), "image/png")},
            )
            assert created.status_code == 201, created.text
            live.product_ids[upc] = created.json()["id"]
        ids = list(live.product_ids.values())
        plan = [(p, p) for p in range(len(PRODUCTS)) for _ in range(PER_PRODUCT)] + WRONG
        for n, (shows, filed) in enumerate(plan):
            upc = PRODUCTS[filed][0]
            added = client.post(
                f"/api/products/{upc}/snapshots",
                files={
                    "image": (f"shelf-{n}.png", png(shelf_photo(packs[shows], rng)), "image/png")
                },
            )
            assert added.status_code == 201, added.text
            snapshot_id = added.json()["snapshot_id"]
            live.truth[snapshot_id] = ids[shows]
            if shows != filed:
                live.wrong.append(snapshot_id)


@pytest.fixture
def live_desk(settings: Settings) -> Iterator[LiveDesk]:
    # The generated packs differ by colour alone: the colour embedder ranks their suspects
    # for certain, so the test is about the desk (recognition is tested in tests/similarity).
    app = make_app(settings, public_url="", qa_session_size=5, embedder="pack-features")
    server, thread, port = _serve(app)
    try:
        live = LiveDesk(url=f"http://127.0.0.1:{port}", db_path=Path(settings.database_url[10:]))
        _seed(live)
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def shot(page: Page, name: str) -> Path:
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


def settled(page: Page) -> None:
    """No request of the desk in flight: the grid is loaded and no action is running."""
    grid = page.locator("#grid")
    expect(grid).to_have_attribute("data-loading", "false", timeout=WAIT)
    expect(grid).to_have_attribute("data-busy", "false", timeout=WAIT)


def images_loaded(page: Page, selector: str) -> None:
    """Every image under `selector` has arrived (polled: the page's CSP refuses eval)."""
    images = page.locator(f"{selector} img")
    for i in range(images.count()):
        expect(images.nth(i)).to_have_js_property("complete", True, timeout=WAIT)
        expect(images.nth(i)).not_to_have_js_property("naturalWidth", 0)


def focused_id(page: Page) -> int:
    return int(page.locator("#grid").get_attribute("data-focus-id") or 0)


def sign_in(page: Page, live: LiveDesk, name: str = "lena") -> None:
    page.goto(f"{live.url}/qa/lead/")
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type(name)
    page.keyboard.press("Enter")
    expect(page.locator("#screen-suspects")).to_be_visible()
    settled(page)


def test_a_small_catalog_is_cleaned_with_keys_only(live_desk: LiveDesk, desktop: Page) -> None:
    page = desktop
    live = live_desk
    sign_in(page, live)
    tiles = page.locator("#grid .tile")
    # The three wrong ones lead the grid, each with its true product suggested.
    expect(tiles).to_have_count(len(live.truth))
    top = [int(tiles.nth(i).get_attribute("data-snapshot-id") or 0) for i in range(3)]
    assert sorted(top) == sorted(live.wrong)
    images_loaded(page, "#grid .tile:nth-child(-n+6)")
    shot(page, "desktop-suspects")
    expect(tiles.first).to_be_focused()

    # P: the product the first suspect is filed under, and what it is confused with.
    filed = page.locator("#grid .tile.focused .pack.attributed .name").inner_text()
    page.keyboard.press("p")
    expect(page.locator("#screen-product")).to_have_attribute("data-ready", "true", timeout=WAIT)
    expect(page.locator("#product-title")).to_have_text(filed)
    confusion = page.locator("#confusions .confusion").first
    expect(confusion).to_contain_text("Sunny Orange Juice 1 L")
    expect(confusion.locator(".mini").first).to_be_visible()  # examples of the pair
    images_loaded(page, "#screen-product")
    shot(page, "desktop-product")
    page.keyboard.press("1")
    settled(page)
    expect(tiles.first).to_be_focused()

    # Shift-select the three, accept: all moved at once ...
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    expect(page.locator("#selection")).to_have_text("3 selected")
    page.keyboard.press("a")
    settled(page)
    expect(tiles).to_have_count(len(live.truth) - 3)
    now = live.attribution()
    assert all(now[s] == live.truth[s] for s in live.wrong)
    # ... U takes the whole batch back, to the same places ...
    page.keyboard.press("u")
    settled(page)
    expect(tiles).to_have_count(len(live.truth))
    assert [int(tiles.nth(i).get_attribute("data-snapshot-id") or 0) for i in range(3)] == top
    assert all(live.attribution()[s] != live.truth[s] for s in live.wrong)
    # ... and one at a time this time.
    for _ in live.wrong:
        page.keyboard.press("a")
        settled(page)
    expect(tiles).to_have_count(len(live.truth) - 3)
    assert all(live.attribution()[s] == live.truth[s] for s in live.wrong)

    # M: move the focused one anywhere through the search box, then U to take it back.
    victim = focused_id(page)
    before = live.attribution()[victim]
    upc, name, _ = next(p for p in PRODUCTS if live.product_ids[p[0]] != before)
    page.keyboard.press("m")
    picker = page.locator("#picker")
    expect(picker).to_be_visible()
    page.keyboard.type(name.split()[0].lower())
    expect(page.locator("#picker-results li")).to_have_count(1)
    expect(page.locator("#picker-results li").first).to_contain_text(name)
    images_loaded(page, "#picker-results")
    shot(page, "desktop-move-search")
    page.keyboard.press("Enter")
    expect(picker).to_be_hidden()
    settled(page)
    assert live.attribution()[victim] == live.product_ids[upc] != before
    page.keyboard.press("u")
    settled(page)
    assert live.attribution()[victim] == before

    # Q: the focused one goes to QA first, and says so.
    first_id = focused_id(page)
    page.keyboard.press("q")
    settled(page)
    expect(page.locator(f"#tile-{first_id} .qa-first")).to_be_visible()
    assert live.sql("SELECT qa_first_at FROM snapshots WHERE id = ?", (first_id,))[0]["qa_first_at"]

    # K on what is left, a row at a time with Shift+ArrowDown, until the grid is empty.
    for _ in range(20):
        if tiles.count() == 0:
            break
        page.keyboard.press("Shift+ArrowDown")
        page.keyboard.press("k")
        settled(page)
    expect(page.locator("#grid-empty")).to_be_visible()
    reviewed = live.sql("SELECT COUNT(*) AS n FROM snapshots WHERE lead_reviewed_at IS NOT NULL")
    assert reviewed[0]["n"] == len(live.truth)
    assert live.attribution() == live.truth  # the catalog is clean

    # The product view (2) of the product the wrong photos came from, and the history (3).
    page.keyboard.press("2")
    page.keyboard.press("f")
    expect(picker).to_be_visible()
    page.keyboard.type("orange")
    expect(page.locator("#picker-results li")).to_have_count(1)
    page.keyboard.press("Enter")
    expect(page.locator("#screen-product")).to_have_attribute("data-ready", "true", timeout=WAIT)
    expect(page.locator("#product-title")).to_have_text("Sunny Orange Juice 1 L")
    expect(page.locator("#product-groups .group.pending h2")).to_have_text("pending · 5")
    expect(page.locator("#confusions .confusion")).to_have_count(0)  # clean now
    page.keyboard.press("3")
    expect(page.locator("#screen-history")).to_have_attribute("data-ready", "true", timeout=WAIT)
    moves = page.locator("#moves .move")
    # 3 moves, their 3 undos, 3 moves again, the search-box move and its undo
    expect(moves).to_have_count(11)
    expect(moves.first).to_contain_text("Undo:")
    expect(moves.locator("button", has_text="Undo")).to_have_count(3)
    images_loaded(page, "#moves")
    shot(page, "desktop-history")


def test_the_desk_on_a_phone_by_touch(live_desk: LiveDesk, phone: Page) -> None:
    page = phone
    live = live_desk
    page.goto(f"{live.url}/qa/lead/")
    page.locator("#username").fill("lena")
    page.get_by_role("button", name="Sign in").tap()
    settled(page)
    tiles = page.locator("#grid .tile")
    expect(tiles).to_have_count(len(live.truth))
    # No sideways scrolling: the grid and the action bar fit the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    images_loaded(page, "#grid .tile:nth-child(-n+4)")
    for i in range(3):
        tiles.nth(i).tap()
    expect(page.locator("#selection")).to_have_text("3 selected")
    shot(page, "phone-suspects")
    page.get_by_role("button", name="Accept").tap()
    settled(page)
    expect(tiles).to_have_count(len(live.truth) - 3)
    assert all(live.attribution()[s] == live.truth[s] for s in live.wrong)
    page.get_by_role("button", name="Undo").tap()
    settled(page)
    expect(tiles).to_have_count(len(live.truth))
    page.get_by_role("button", name="History").tap()
    expect(page.locator("#screen-history")).to_have_attribute("data-ready", "true", timeout=WAIT)
    expect(page.locator("#moves .move")).to_have_count(6)  # 3 moves and their undos
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    shot(page, "phone-history")


def test_the_next_page_and_its_thumbnails_are_fetched_ahead(
    live_desk: LiveDesk, desktop: Page
) -> None:
    page = desktop
    live = live_desk
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    page.goto(f"{live.url}/qa/lead/?page=6")
    page.locator("#username").fill("lena")
    page.keyboard.press("Enter")
    settled(page)
    tiles = page.locator("#grid .tile")
    expect(tiles).to_have_count(6)
    expect(page.locator("#load-more")).to_be_visible()

    # Before anyone asks for more, page 2 was fetched, and so were its pictures.
    expect(page.locator("#grid")).to_have_attribute("data-ahead", "ready", timeout=30_000)
    assert [u for u in requested if "/api/lead/suspects" in u and "cursor=" in u]
    shown = {tiles.nth(i).get_attribute("data-snapshot-id") for i in range(6)}
    thumbs_before = {u for u in requested if "/thumbs/" in u}
    # Keep four: two tiles left, so the prefetched page is shown at once.
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("Shift+ArrowRight")
    page.keyboard.press("k")
    settled(page)
    expect(tiles).to_have_count(8)
    new = [
        tiles.nth(i)
        for i in range(8)
        if tiles.nth(i).get_attribute("data-snapshot-id") not in shown
    ]
    assert len(new) == 6
    for tile in new:
        src = tile.locator(".photo img").get_attribute("src") or ""
        assert any(u.endswith(src) for u in thumbs_before), "a thumbnail was not fetched ahead"

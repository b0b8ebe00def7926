"""Browser tests of the QA page: Debian's chromium driven by Playwright, against the app served
by uvicorn on a loopback port over a temp SQLite database seeded through the catalog API.

They fail, with the command that fixes it, when chromium (`make test-deps`) or Playwright (a
dev dependency: `make install`) is absent. Playwright never downloads a browser here: it is
pointed at Debian's /usr/bin/chromium.
"""

from __future__ import annotations

import io
import random
import socket
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from PIL import Image, ImageDraw, ImageFilter, ImageFont

from service.config import Settings
from tests.conftest import make_app
from tests.e2e.browsers import CRASHES, ChromiumKeeper, kept_chromium
from tests.e2e.browsers import chromium as chromium  # tests/hardening/test_qa_page_key.py

SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-output" / "qa-page"
SESSION_SIZE = 10

# (UPC, name, colour, snapshots to review, snapshots already confirmed). 4 + 3 + 3 = 10 to
# review: one session of SESSION_SIZE holds them all, grouped by product in this order.
CATALOG = [
    ("4006381333931", "Sunny Orange Juice 1 L", (242, 140, 40), 4, 3),
    ("5000112637922", "Cool Mint Toothpaste 75 ml", (40, 150, 200), 3, 1),
    ("8710398503017", "Crunchy Oat Cereal 500 g", (150, 90, 160), 3, 0),
]


# -- images ---------------------------------------------------------------------------------


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    return ImageFont.load_default(size=size)


def packaging(
    name: str, colour: tuple[int, int, int], size: tuple[int, int] = (360, 360)
) -> Image.Image:
    """A flat 'pack': the colour, a white disc and the product name."""
    img = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(img)
    w, h = size
    draw.ellipse((w * 0.25, h * 0.12, w * 0.75, h * 0.62), fill=(250, 250, 245))
    draw.rectangle((0, h * 0.72, w, h), fill=tuple(c // 2 for c in colour))
    draw.multiline_text((w * 0.06, h * 0.75), name.replace(" ", "\n", 1), fill="white",
                        font=_font(int(h * 0.08)))  # fmt: skip
    return img


def png(img: Image.Image) -> bytes:
    out = io.BytesIO()
    img.save(out, format="PNG")
    return out.getvalue()


def shelf_photo(pack: Image.Image, rng: random.Random) -> Image.Image:
    """The pack on a shelf-coloured background, scaled, rotated and lit a little differently."""
    bg = Image.new("RGB", (480, 360), tuple(rng.randint(90, 140) for _ in range(3)))
    draw = ImageDraw.Draw(bg)
    draw.rectangle((0, 300, 480, 360), fill=(70, 60, 50))
    scale = rng.uniform(0.6, 0.8)
    item = pack.resize((int(pack.width * scale), int(pack.height * scale)))
    item = item.rotate(rng.uniform(-8, 8), expand=True, fillcolor=bg.getpixel((0, 0)))
    bg.paste(item, (rng.randint(20, 480 - item.width - 20), 300 - item.height + 10))
    light = rng.uniform(0.8, 1.15)
    return bg.point(lambda v: min(255, int(v * light))).filter(ImageFilter.GaussianBlur(0.6))


# -- the served app -------------------------------------------------------------------------


@dataclass
class LiveQA:
    """The app on a loopback port, its database file, and the seeded catalog."""

    url: str
    db_path: Path
    product_ids: dict[str, int] = field(default_factory=dict)  # UPC -> product id
    pending: list[int] = field(default_factory=list)  # snapshot ids QA will be handed

    def page_url(self, hold_ms: int) -> str:
        return f"{self.url}/qa/?hold={hold_ms}"

    def sql(self, text: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:
        con = sqlite3.connect(f"file:{self.db_path}?mode=ro", uri=True, timeout=5)
        try:
            con.row_factory = sqlite3.Row
            return [dict(row) for row in con.execute(text, params)]
        finally:
            con.close()

    def verdicts(self, username: str) -> dict[int, bool]:
        """snapshot id -> the user's recorded verdict, for answered hand-outs."""
        rows = self.sql(
            "SELECT snapshot_id, is_match FROM qa_assignments"
            " WHERE username = ? AND is_match IS NOT NULL",
            (username,),
        )
        return {row["snapshot_id"]: bool(row["is_match"]) for row in rows}


def _serve(app: Any) -> tuple[uvicorn.Server, threading.Thread, int]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(app, log_level="warning", lifespan="on", access_log=False)
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return server, thread, port


def _seed(live: LiveQA) -> None:
    rng = random.Random(6)
    with httpx.Client(base_url=live.url, timeout=10) as client:
        for upc, name, colour, to_review, confirmed in CATALOG:
            pack = packaging(name, colour)
            created = client.post(
                "/api/products",
                data={"upc": upc, "name": name},
                files={"image": (f"{upc}.png", png(pack), "image/png")},
            )
            assert created.status_code == 201, created.text
            live.product_ids[upc] = created.json()["id"]
            ids = []
            for n in range(to_review + confirmed):
                added = client.post(
                    f"/api/products/{upc}/snapshots",
                    files={"image": (f"{upc}-{n}.png", png(shelf_photo(pack, rng)), "image/png")},
                )
                assert added.status_code == 201, added.text
                ids.append(added.json()["snapshot_id"])
            live.pending += ids[:to_review]
            if confirmed:
                # Consensus already reached on these: what the page shows as confirmed examples.
                con = sqlite3.connect(live.db_path, timeout=5)
                with con:
                    con.executemany(
                        "UPDATE snapshots SET status = 'match', votes_match = 2 WHERE id = ?",
                        [(i,) for i in ids[to_review:]],
                    )
                con.close()


@pytest.fixture
def live_qa(settings: Settings) -> Iterator[LiveQA]:
    app = make_app(settings, qa_session_size=SESSION_SIZE, public_url="")
    server, thread, port = _serve(app)
    try:
        live = LiveQA(url=f"http://127.0.0.1:{port}", db_path=Path(settings.database_url[10:]))
        _seed(live)
        yield live
    finally:
        server.should_exit = True
        thread.join(timeout=10)


# -- the browser ----------------------------------------------------------------------------


# Module scope: a live sync_playwright keeps an event loop running in this thread, which
# would break asyncio.run() in every test module collected after this one.
@pytest.fixture(scope="module")
def chromium_keeper() -> Iterator[ChromiumKeeper]:
    """The module's Chromium, relaunched when a test finds it dead (tests/e2e/browsers.py)."""
    with kept_chromium() as keeper:
        yield keeper


@pytest.fixture
def browser(chromium_keeper: ChromiumKeeper, request: pytest.FixtureRequest) -> Any:
    return chromium_keeper.for_test(request.node.nodeid)


@contextmanager
def _page(keeper: ChromiumKeeper, test: str, **context_options: Any) -> Iterator[Any]:
    context, page = keeper.new_page(test, **context_options)
    try:
        yield page
    finally:
        keeper.close_context(context)


@pytest.fixture
def desktop(chromium_keeper: ChromiumKeeper, request: pytest.FixtureRequest) -> Iterator[Any]:
    with _page(
        chromium_keeper, request.node.nodeid, viewport={"width": 1280, "height": 800}
    ) as page:
        yield page


@pytest.fixture
def phone(chromium_keeper: ChromiumKeeper, request: pytest.FixtureRequest) -> Iterator[Any]:
    phone = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2}
    with _page(
        chromium_keeper, request.node.nodeid, **phone, is_mobile=True, has_touch=True
    ) as page:
        yield page


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Crashes are easy to miss when the relaunch saved the rest of the run: say each one."""
    if CRASHES:
        terminalreporter.section("chromium crashes")
        for report in CRASHES:
            terminalreporter.write_line(report)


def screenshot(page: Any, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path

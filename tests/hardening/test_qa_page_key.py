"""The QA page with API_KEYS on: the sign-in takes a key, sends it, and says so when refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from service.config import Settings
from tests.conftest import make_app
from tests.e2e.conftest import _serve, chromium
from tests.hardening.conftest import API_KEYS, KEYS, load_small_catalog, wait_for


@pytest.fixture(scope="module")
def page() -> Iterator[Any]:
    with chromium() as browser:
        yield browser.new_context(viewport={"width": 1280, "height": 800}).new_page()


def sign_in(page: Any, user: str, key: str) -> None:
    page.fill("#username", user)
    page.fill("#api-key", key)
    page.press("#username", "Enter")


def test_the_qa_page_sends_the_key_it_is_given(page: Any, settings: Settings) -> None:
    from playwright.sync_api import expect

    app = make_app(settings, api_keys=API_KEYS, qa_session_size=3)
    load_small_catalog(app.state.settings, products=1, snapshots=3)
    server, thread, port = _serve(app)
    try:
        page.goto(f"http://127.0.0.1:{port}/qa/?hold=100")  # the page itself needs no key
        sign_in(page, "alice", "not-a-valid-key-at-all")
        expect(page.locator("#start-error")).to_contain_text("refused the API key")

        page.click("#sign-out")
        expect(page.locator("#api-key")).to_have_value("not-a-valid-key-at-all")  # kept
        sign_in(page, "alice", KEYS["client"])  # a valid key of the wrong role
        expect(page.locator("#start-error")).to_contain_text("refused the API key")

        page.click("#sign-out")
        sign_in(page, "alice", KEYS["qa"])
        start = page.locator("#start-button")
        expect(start).to_have_text("Start a session")
        start.click()
        expect(page.locator("#screen-review")).to_have_attribute("data-ready", "true")
        page.keyboard.press("a")
        expect(page.locator("#sync")).to_have_text("All answers saved", timeout=10_000)
        engine = app.state.services.db.engine
        votes = wait_for(
            lambda: engine.read(
                lambda s: s.raw("SELECT username FROM qa_assignments WHERE is_match = 1")
            ),
            5,
            "the vote in the database",
        )
        assert [v["username"] for v in votes] == ["alice"]
    finally:
        server.should_exit = True
        thread.join(timeout=10)

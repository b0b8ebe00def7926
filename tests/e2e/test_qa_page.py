"""The QA page in a real browser: keyboard sessions, undo, retries, product switches, sizes.

Each test gets a fresh app and database (tests/e2e/conftest.py): 3 products with 4, 3 and 3
snapshots to review, so one session of 10 holds them all, grouped by product. The send delay
(3 s on the real page) is shortened with `?hold=MS`; the undo window logic is the same.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Page, Route, expect  # a dev dependency: never skipped

from tests.e2e.conftest import CATALOG, SESSION_SIZE, LiveQA, screenshot

MATCH_KEYS = {"a", "A", "ArrowLeft"}
# Where a new product starts in the session (4, 3 and 3 snapshots per product).
PRODUCT_STARTS = {0: 0, 4: 1, 7: 2}


def product_at(index: int) -> tuple[str, str]:
    """(UPC, name) of the product the session's index-th snapshot belongs to."""
    start = max(s for s in PRODUCT_STARTS if s <= index)
    upc, name, *_ = CATALOG[PRODUCT_STARTS[start]]
    return upc, name


def sign_in_by_keyboard(page: Page, live: LiveQA, user: str, hold_ms: int) -> None:
    page.goto(live.page_url(hold_ms))
    expect(page.locator("#username")).to_be_focused()
    page.keyboard.type(user)
    page.keyboard.press("Enter")
    start = page.locator("#start-button")
    expect(start).to_have_text("Start a session")
    expect(start).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("#screen-review")).to_be_visible()


def current_snapshot(page: Page) -> int:
    """The snapshot on screen, once its image has loaded (the page takes answers then)."""
    review = page.locator("#screen-review")
    expect(review).to_have_attribute("data-ready", "true")
    return int(review.get_attribute("data-snapshot-id") or 0)


def wait_until(page: Page, check: Callable[[], bool], timeout: float = 10.0) -> None:
    """Poll `check` while letting the browser (and route handlers) run."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        page.wait_for_timeout(50)


def expect_all_saved(page: Page) -> None:
    expect(page.locator("#sync")).to_have_text("All answers saved", timeout=10_000)


def test_a_keyboard_only_session_records_exactly_what_was_pressed(
    live_qa: LiveQA, desktop: Page
) -> None:
    page = desktop
    sign_in_by_keyboard(page, live_qa, "alice", hold_ms=300)
    keys = ["a", "L", "ArrowLeft", "ArrowRight", "A", "l", "ArrowLeft", "a", "ArrowRight", "L"]
    pressed: dict[int, bool] = {}
    for index, key in enumerate(keys):
        expect(page.locator("#progress-done")).to_have_text(str(index))
        expect(page.locator("#progress-total")).to_have_text(str(SESSION_SIZE))
        snapshot_id = current_snapshot(page)
        upc, name = product_at(index)
        expect(page.locator("#product-name")).to_have_text(name)
        expect(page.locator("#product-upc")).to_have_text(upc)
        if index in (0, 4, 7):
            # Confirmed snapshots of the product beside its reference: 3, 1 and none.
            confirmed = {0: 3, 4: 1, 7: 0}[index]
            expect(page.locator("#confirmed-list img")).to_have_count(confirmed)
            expect(page.locator("#confirmed-empty")).to_be_visible(visible=confirmed == 0)
        if index == 0:
            # Polled from here: wait_for_function re-runs its text with eval, which the page's
            # CSP refuses once the first check is false (a slow machine).
            loaded = "[...document.querySelectorAll('#confirmed-list img')].every(i => i.complete)"
            deadline = time.monotonic() + 10
            while not page.evaluate(loaded):
                assert time.monotonic() < deadline, "the confirmed snapshots did not load"
                page.wait_for_timeout(50)
            screenshot(page, "desktop-review")
        if index == 4:
            screenshot(page, "desktop-product-switch")
        page.keyboard.press(key)
        pressed[snapshot_id] = key in MATCH_KEYS

    expect(page.locator("#done-title")).to_be_visible()
    expect(page.locator("#done-status")).to_have_text(
        f"All {SESSION_SIZE} answers are saved. Thank you!", timeout=10_000
    )
    assert sorted(pressed) == sorted(live_qa.pending)
    assert live_qa.verdicts("alice") == pressed
    [session] = live_qa.sql("SELECT status, size, answered FROM qa_sessions WHERE username = ?",
                            ("alice",))  # fmt: skip
    assert session == {"status": "completed", "size": SESSION_SIZE, "answered": SESSION_SIZE}

    matches = sum(pressed.values())
    expect(page.locator("#stat-reviewed")).to_have_text(str(SESSION_SIZE))
    expect(page.locator("#stat-match")).to_have_text(str(matches))
    expect(page.locator("#stat-mismatch")).to_have_text(str(SESSION_SIZE - matches))
    expect(page.locator("#stat-rank")).to_have_text("1 of 1")
    expect(page.locator("#stat-activity")).to_have_text(str(SESSION_SIZE))
    screenshot(page, "desktop-done")

    # The leaderboard, still by keyboard: the next button after "Start the next session".
    expect(page.locator("#next-session")).to_be_focused()
    page.keyboard.press("Tab")
    expect(page.locator("#done-leaderboard")).to_be_focused()
    page.keyboard.press("Enter")
    row = page.locator("#leaderboard-body tr.me")
    expect(row).to_have_count(1)
    expect(row.locator("td").nth(1)).to_have_text("alice")
    expect(row.locator("td").nth(4)).to_have_text(str(SESSION_SIZE))
    screenshot(page, "desktop-leaderboard")


def test_undo_within_the_window_changes_the_recorded_answer(live_qa: LiveQA, desktop: Page) -> None:
    page = desktop
    sign_in_by_keyboard(page, live_qa, "bob", hold_ms=2500)
    review = page.locator("#screen-review")
    undo = page.locator("#btn-undo")
    expect(undo).to_be_disabled()

    first = current_snapshot(page)
    page.keyboard.press("a")  # match ...
    expect(review).not_to_have_attribute("data-snapshot-id", str(first))
    expect(undo).to_be_enabled()
    page.keyboard.press("u")  # ... taken back: the same snapshot is on screen again
    expect(review).to_have_attribute("data-snapshot-id", str(first))
    expect(page.locator("#announce")).to_contain_text("Undone")
    expect(page.locator("#undo-label")).to_have_text("Undone")
    expect(page.locator("#progress-done")).to_have_text("0")
    page.keyboard.press("l")  # answered again: not a match

    second = current_snapshot(page)
    assert second != first
    page.keyboard.press("ArrowLeft")
    third = current_snapshot(page)
    # Once an answer is sent the window is closed: U changes nothing.
    expect_all_saved(page)
    expect(undo).to_be_disabled()
    page.keyboard.press("u")
    expect(page.locator("#announce")).to_contain_text("Too late to undo")
    expect(review).to_have_attribute("data-snapshot-id", str(third))

    assert live_qa.verdicts("bob") == {first: False, second: True}
    votes = live_qa.sql("SELECT votes_match, votes_mismatch FROM snapshots WHERE id = ?", (first,))
    assert votes == [{"votes_match": 0, "votes_mismatch": 1}]

    # An answer still held: leaving the page asks first.
    page.keyboard.press("a")
    with page.expect_event("dialog") as dialog_info:
        page.close(run_before_unload=True)
    dialog = dialog_info.value
    assert dialog.type == "beforeunload"
    dialog.dismiss()


def test_a_failed_verdict_request_is_retried_and_recorded_once(
    live_qa: LiveQA, desktop: Page
) -> None:
    page = desktop
    calls: Counter[int] = Counter()
    failures = ["503", "network", "lost response"]  # for the 1st, 2nd and 3rd answers' 1st try
    planned: dict[int, str] = {}

    def flaky(route: Route) -> None:
        snapshot_id = int(route.request.url.rstrip("/").rsplit("/", 1)[1])
        calls[snapshot_id] += 1
        if calls[snapshot_id] == 1 and failures:
            planned[snapshot_id] = failures.pop(0)
            if planned[snapshot_id] == "503":
                route.fulfill(status=503, json={"error": "service temporarily unavailable"})
                return
            if planned[snapshot_id] == "network":
                route.abort("connectionreset")
                return
            # The server records it, but the answer never reaches the page: the retry gets a
            # 409, which the page must count as delivered (not resend forever, not count twice).
            response = route.fetch()
            assert response.status == 200
            route.abort("connectionreset")
            return
        route.continue_()

    page.route(re.compile(r".*/qa/session/\d+/snapshot/\d+$"), flaky)
    sign_in_by_keyboard(page, live_qa, "carol", hold_ms=100)
    # Record whether the header ever said it was retrying (the state lasts only a backoff).
    page.evaluate(
        """() => {
        const sync = document.getElementById("sync");
        window.sawRetrying = false;
        new MutationObserver(() => {
          if (sync.textContent.includes("retrying")) window.sawRetrying = true;
        }).observe(sync, {childList: true, characterData: true, subtree: true});
    }"""
    )
    pressed: dict[int, bool] = {}
    for key in ["a", "l", "a", "l"]:
        snapshot_id = current_snapshot(page)
        page.keyboard.press(key)
        pressed[snapshot_id] = key in MATCH_KEYS
    expect_all_saved(page)
    assert page.evaluate("window.sawRetrying")

    ids = list(pressed)
    assert planned == dict(zip(ids[:3], ["503", "network", "lost response"], strict=True))
    assert calls == {ids[0]: 2, ids[1]: 2, ids[2]: 2, ids[3]: 1}
    assert live_qa.verdicts("carol") == pressed
    votes = {
        snapshot_id: live_qa.sql(
            "SELECT votes_match + votes_mismatch AS n FROM snapshots WHERE id = ?", (snapshot_id,)
        )[0]["n"]
        for snapshot_id in ids
    }
    assert votes == dict.fromkeys(ids, 1)
    [session] = live_qa.sql("SELECT answered FROM qa_sessions WHERE username = ?", ("carol",))
    assert session["answered"] == len(ids)


def test_the_product_switch_notice_marks_each_new_product_on_a_phone(
    live_qa: LiveQA, phone: Page
) -> None:
    page = phone
    page.goto(live_qa.page_url(hold_ms=200))
    screenshot(page, "phone-sign-in")
    page.locator("#username").fill("dave")
    page.get_by_role("button", name="Sign in").tap()
    page.get_by_role("button", name="Start a session").tap()
    notice = page.locator("#product-switch")
    for index in range(SESSION_SIZE):
        current_snapshot(page)
        _, name = product_at(index)
        expect(page.locator("#product-name")).to_have_text(name)
        if index in PRODUCT_STARTS and index > 0:
            expect(notice).to_be_visible()
            expect(notice).to_have_text("New product")
            expect(page.locator("#announce")).to_have_text(f"New product: {name}")
        else:
            expect(notice).to_be_hidden()
        if index == 0:
            screenshot(page, "phone-review")
        if index == 4:
            screenshot(page, "phone-product-switch")
        button = "Match" if index % 3 else "Not a match"
        page.get_by_role("button", name=button, exact=True).tap()
    expect(page.locator("#done-status")).to_have_text(
        f"All {SESSION_SIZE} answers are saved. Thank you!", timeout=10_000
    )
    assert len(live_qa.verdicts("dave")) == SESSION_SIZE
    screenshot(page, "phone-done")


def test_answers_left_unsent_when_the_page_reloads_are_still_delivered(
    live_qa: LiveQA, desktop: Page
) -> None:
    page = desktop
    dialogs: list[Any] = []

    def accept(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    page.on("dialog", accept)
    sign_in_by_keyboard(page, live_qa, "erin", hold_ms=60_000)  # nothing is sent on its own
    pressed: dict[int, bool] = {}
    for key in ["a", "l"]:
        snapshot_id = current_snapshot(page)
        page.keyboard.press(key)
        pressed[snapshot_id] = key in MATCH_KEYS
    page.wait_for_timeout(200)
    assert live_qa.verdicts("erin") == {}
    page.reload()

    assert dialogs == ["beforeunload"]
    expect_all_saved(page)
    wait_until(page, lambda: live_qa.verdicts("erin") == pressed)
    expect(page.locator("#start-text")).to_have_text(
        f"You have an unfinished session: {SESSION_SIZE - 2} snapshots left."
    )
    page.keyboard.press("Enter")
    current_snapshot(page)
    expect(page.locator("#progress-done")).to_have_text("2")
    expect(page.locator("#progress-total")).to_have_text(str(SESSION_SIZE))
    [session] = live_qa.sql("SELECT answered FROM qa_sessions WHERE username = ?", ("erin",))
    assert session["answered"] == 2

"""The module's Chromium outlives a crash: one test kills the browser process, the next test
gets a fresh browser, and the crash is reported with the log of the one that died.

The first two tests run in this order (pytest keeps a file's order): the second one checks
what the first one left behind.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.browsers import ChromiumKeeper

KILLED: list[int] = []  # the pid the first test killed


def test_a_browser_killed_during_a_test_is_found_dead(
    chromium_keeper: ChromiumKeeper, desktop: Any
) -> None:
    desktop.set_content("<p>before the crash</p>")
    assert chromium_keeper.pid is not None
    KILLED.append(chromium_keeper.pid)
    chromium_keeper.kill()
    # Seen from the process, before any Playwright call has had the chance to notice.
    assert chromium_keeper.dead()


def test_the_next_test_gets_a_fresh_browser(
    chromium_keeper: ChromiumKeeper, desktop: Any, request: pytest.FixtureRequest
) -> None:
    if not KILLED:
        pytest.fail("run with the test before it, which kills the browser")
    assert desktop.evaluate("1 + 1") == 2
    assert chromium_keeper.launches == 2
    assert chromium_keeper.pid not in (None, KILLED[0])
    report = chromium_keeper.reports[-1]
    assert f"pid {KILLED[0]}" in report and "killed on purpose" in report
    assert "test_a_browser_killed_during_a_test_is_found_dead" in report
    assert f"relaunched for {request.node.nodeid}" in report
    # The dead browser's own log is kept (and named in the report) for a post-mortem.
    dead_log = report.split("Its log, ", 1)[1].split(", ends:", 1)[0]
    assert dead_log != str(chromium_keeper.log)
    with open(dead_log, encoding="utf-8", errors="replace") as log:
        assert log.read().strip()


def test_a_crash_only_playwright_can_see_costs_a_relaunch_not_the_test(
    chromium_keeper: ChromiumKeeper, request: pytest.FixtureRequest
) -> None:
    """Where the process cannot be watched, the dead browser shows when a page is opened."""
    pid = chromium_keeper.pid
    launches = chromium_keeper.launches
    chromium_keeper.pid = None
    chromium_keeper.kill(pid)
    assert chromium_keeper.browser.is_connected()  # Playwright has not noticed yet
    context, page = chromium_keeper.new_page(request.node.nodeid)
    try:
        assert page.evaluate("2 + 2") == 4
    finally:
        chromium_keeper.close_context(context)
    assert chromium_keeper.launches == launches + 1
    assert "seen when it opened a page" in chromium_keeper.reports[-1]

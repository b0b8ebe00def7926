"""One Chromium for a module's browser tests that outlives a crash.

Without this, a browser that dies (a renderer bug, the OOM killer) fails every test left in the
module with "Target page, context or browser has been closed". The keeper looks at the browser
before each test: Playwright's connection, and the process itself (after a SIGKILL Playwright
only notices at its next call). A dead one is relaunched, so a crash costs at most the test it
happened in, and reported: the test that used it last and the tail of Chromium's own log, which
every launch writes (`--enable-logging --log-file`) under test-output/e2e-browser/.
"""

from __future__ import annotations

import itertools
import os
import signal
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import pytest

from scripts.system_deps import CHROMIUM
from tests.system_deps import require

LOG_DIR = Path(__file__).resolve().parents[2] / "test-output" / "e2e-browser"
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu"]
LOG_TAIL = 30  # lines of the dead browser's log in its report
LOG_NOISE = ("dbus/", "bluez_dbus", "idle_linux.cc")  # said by every launch in a container
CRASHES: list[str] = []  # reports of crashes nobody asked for, for the run's summary
_launch_numbers = itertools.count(1)  # log names stay unique across modules in one run


def _main_process(log: Path) -> int | None:
    """The browser process launched with this log file (its helpers carry a --type=)."""
    marker = f"--log-file={log}".encode()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError):
            args = (entry / "cmdline").read_bytes().split(b"\0")
            if marker in args and not any(a.startswith(b"--type=") for a in args):
                return int(entry.name)
    return None


def _running(pid: int) -> bool:
    """Alive, not a zombie waiting for Playwright's driver to reap it."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rpartition(")")[2].split()[0] not in ("Z", "X")


def _tail(log: Path) -> str:
    """The end of a browser's log, without the D-Bus complaints of a machine with no bus."""
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return "  (no log written)"
    kept = [line for line in lines if not any(noise in line for noise in LOG_NOISE)]
    left_out = f"\n  ({len(lines) - len(kept)} lines about D-Bus left out)" if kept != lines else ""
    return "\n".join(f"  | {line}" for line in kept[-LOG_TAIL:]) + left_out


class ChromiumKeeper:
    """Debian's chromium driven by Playwright, relaunched when found dead."""

    def __init__(self, playwright: Any, log_dir: Path = LOG_DIR) -> None:
        self._playwright = playwright
        self._log_dir = log_dir
        self.launches = 0
        self.reports: list[str] = []  # every crash this keeper saw, deliberate ones included
        self._drills: list[Path] = []  # logs of browsers killed on purpose: removed at the end
        self._launch()

    def _launch(self) -> None:
        self._log_dir.mkdir(parents=True, exist_ok=True)
        self.log = self._log_dir / f"chromium-{os.getpid()}-{next(_launch_numbers)}.log"
        self.log.unlink(missing_ok=True)
        self.browser = self._playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            args=[*LAUNCH_ARGS, "--enable-logging", "--v=0", f"--log-file={self.log}"],
        )
        self.launches += 1
        self.pid = _main_process(self.log)  # None: only Playwright can tell it died
        self.last_test = "(none yet)"
        self.noticed_in: str | None = None  # the test during which Playwright saw it go
        self.killed_on_purpose = False
        self.reported = False  # its log is kept, named in the report
        self.browser.on("disconnected", self._disconnected)

    def _disconnected(self, browser: Any) -> None:
        if browser is self.browser and self.noticed_in is None:
            self.noticed_in = self.last_test

    def dead(self) -> bool:
        if not self.browser.is_connected():
            return True
        return self.pid is not None and not _running(self.pid)

    def for_test(self, test: str) -> Any:
        """A live browser for `test`: the one the last test used, or a new one if that died."""
        if self.dead():
            self._replace(f"relaunched for {test}")
        self.last_test = test
        return self.browser

    def new_page(self, test: str, **context_options: Any) -> tuple[Any, Any]:
        """A page in a new context. A crash that Playwright only reports here (the process
        could not be watched) still costs a relaunch, not the test."""
        from playwright.sync_api import Error

        try:
            context = self.for_test(test).new_context(**context_options)
        except Error:
            if self.browser.is_connected():
                raise
            self._replace(f"relaunched for {test} (seen when it opened a page)")
            self.last_test = test
            context = self.browser.new_context(**context_options)
        return context, context.new_page()

    def close_context(self, context: Any) -> None:
        """Close a test's context; after a crash there is nothing left to close."""
        from playwright.sync_api import Error

        try:
            context.close()
        except Error:
            if self.browser.is_connected():
                raise

    def kill(self, pid: int | None = None) -> None:
        """SIGKILL the browser process, as a crash would (the fixture's own tests)."""
        pid = pid or self.pid
        assert pid is not None, "the browser process was not found"
        self.killed_on_purpose = True
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _running(pid) and time.monotonic() < deadline:
            time.sleep(0.02)

    def close(self) -> None:
        """At the end of the module: a browser that died in the last test is reported too."""
        if self.dead():
            self._report("not relaunched: the module's tests are done")
        with suppress(Exception):
            self.browser.close()
        for log in self._drills if self.reported else [*self._drills, self.log]:
            log.unlink(missing_ok=True)  # a clean run's log says nothing

    def _replace(self, outcome: str) -> None:
        self._report(outcome)
        with suppress(Exception):
            self.browser.close()
        self._launch()

    def _report(self, outcome: str) -> None:
        noticed = f"; Playwright saw it go during {self.noticed_in}" if self.noticed_in else ""
        report = (
            f"chromium (pid {self.pid or 'unknown'}, launch {self.launches} of this module) died"
            f"{' (killed on purpose)' if self.killed_on_purpose else ''}: the last test that used"
            f" it was {self.last_test}{noticed}; {outcome}.\n"
            f"Its log, {self.log}, ends:\n{_tail(self.log)}"
        )
        self.reports.append(report)
        self.reported = True
        if self.killed_on_purpose:
            self._drills.append(self.log)
        else:
            CRASHES.append(report)
        print(report, file=sys.stderr)


def require_browser() -> None:
    """Fail the test (never skip it) when Debian's chromium or Playwright is missing."""
    require("chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.fail("Playwright for Python is missing (a dev dependency): run make install")


@contextmanager
def chromium() -> Iterator[Any]:
    """Debian's chromium, driven by Playwright."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextmanager
def kept_chromium() -> Iterator[ChromiumKeeper]:
    """A keeper for one module's tests, closed (and a crash in its last test reported) after."""
    require_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        keeper = ChromiumKeeper(playwright)
        try:
            yield keeper
        finally:
            keeper.close()

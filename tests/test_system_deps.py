"""`make test-deps` (scripts/system_deps.py): install what the suite needs, or say how in one
line; and the tests that need a missing package fail with that same line."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest

from scripts import system_deps
from service.config import ROOT
from tests import mariadb
from tests.system_deps import require

COMMAND = "sudo apt-get update && sudo apt-get install -y --no-install-recommends"


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only what a test puts there, and packages whose programs live in it."""
    monkeypatch.setattr(system_deps, "SEARCH_PATH", str(tmp_path))
    monkeypatch.setattr(
        system_deps,
        "PACKAGES",
        {"mariadb-server": ("mariadbd", "mariadb-install-db"), "chromium": ("chromium",),
         "docker-compose": ("docker-compose",)},
    )  # fmt: skip
    return tmp_path


def put(directory: Path, *programs: str) -> None:
    for program in programs:
        path = directory / program
        path.write_text("#!/bin/sh\n")
        path.chmod(path.stat().st_mode | stat.S_IXUSR)


def test_a_package_counts_as_installed_only_with_all_its_programs(bin_dir: Path) -> None:
    put(bin_dir, "mariadbd", "chromium")
    assert system_deps.missing() == ["mariadb-server", "docker-compose"]
    put(bin_dir, "mariadb-install-db", "docker-compose")
    assert system_deps.missing() == []


def test_nothing_missing_is_a_quiet_success(
    bin_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    put(bin_dir, "mariadbd", "mariadb-install-db", "chromium", "docker-compose")
    assert system_deps.main(install=_refuse) == 0
    assert capsys.readouterr() == ("", "")


def test_without_root_it_stops_with_one_line_giving_the_command(
    bin_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    put(bin_dir, "chromium")
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert system_deps.main(install=_refuse) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err == (
        "test-deps: missing mariadb-server, docker-compose (needed by the tests); install "
        f"with: {COMMAND} mariadb-server docker-compose\n"
    )


def test_as_root_it_installs_what_is_missing_and_says_so(
    bin_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    put(bin_dir, "mariadbd", "mariadb-install-db")
    monkeypatch.setattr(system_deps, "can_install", lambda: True)
    asked: list[list[str]] = []

    def install(packages: Sequence[str]) -> None:
        asked.append(list(packages))
        put(bin_dir, "chromium", "docker-compose")

    assert system_deps.main(install=install) == 0
    assert asked == [["chromium", "docker-compose"]]
    assert capsys.readouterr().err == "test-deps: installing chromium docker-compose with apt-get\n"


def test_a_failed_install_ends_with_the_command(
    bin_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(system_deps, "can_install", lambda: True)
    assert system_deps.main(install=lambda packages: None) == 1  # "succeeds", installs nothing
    last = capsys.readouterr().err.splitlines()[-1]
    assert last.startswith("test-deps: still missing mariadb-server, chromium, docker-compose")
    assert last.endswith(f"{COMMAND} mariadb-server chromium docker-compose")


def test_a_test_needing_a_missing_package_fails_with_that_line(bin_dir: Path) -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        require("docker-compose")
    assert str(failed.value) == system_deps.hint(["docker-compose"])
    # Starting a MariaDB server (a fixture, or a test's own) fails the same way, not with
    # another error of its own.
    with pytest.raises(pytest.fail.Exception) as failed:
        mariadb.start()
    assert str(failed.value) == system_deps.hint(["mariadb-server"])


def test_make_test_runs_test_deps_first() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert "\ntest: test-deps $(STAMP) " in makefile
    assert "\ntest-deps: " in makefile and "-m scripts.system_deps" in makefile


def _refuse(packages: Sequence[str]) -> None:
    raise AssertionError(f"nothing should be installed here (asked for {packages})")

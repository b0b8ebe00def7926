"""Tests that need a Debian package (MariaDB, chromium, docker-compose) fail when it is
missing, never skip: with the one line `make test-deps` prints, which names the command."""

from __future__ import annotations

import pytest

from scripts import system_deps


def require(*packages: str) -> None:
    if need := system_deps.missing(packages):
        pytest.fail(system_deps.hint(need), pytrace=False)

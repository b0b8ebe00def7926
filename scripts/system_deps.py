"""`make test-deps`: the Debian packages the test suite runs besides Python's.

MariaDB stands in for SingleStore, chromium drives the browser tests, docker-compose checks
compose.yaml. As root with apt-get, the missing ones are installed (saying which); otherwise
this stops with one line giving the exact command. Tests that need a missing one fail with
the same line (`tests/system_deps.py`). Standard library only: it runs before the venv exists.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

# Debian's mariadbd lives in /usr/sbin, which is not on every user's PATH.
SEARCH_PATH = os.pathsep.join(["/usr/sbin", "/usr/bin", os.environ.get("PATH", "")])
CHROMIUM = Path("/usr/bin/chromium")  # the browser tests drive this one, never a download

# Debian package -> the programs of it that the suite runs.
PACKAGES: dict[str, tuple[str, ...]] = {
    "mariadb-server": ("mariadbd", "mariadb-install-db"),
    "chromium": (str(CHROMIUM),),
    "docker-compose": ("docker-compose",),
}


def installed(package: str) -> bool:
    return all(shutil.which(program, path=SEARCH_PATH) for program in PACKAGES[package])


def missing(packages: Sequence[str] = tuple(PACKAGES)) -> list[str]:
    return [package for package in packages if not installed(package)]


def install_command(packages: Sequence[str]) -> str:
    names = " ".join(packages)
    return f"sudo apt-get update && sudo apt-get install -y --no-install-recommends {names}"


def hint(packages: Sequence[str]) -> str:
    """The one line a person gets when packages are missing and cannot be installed here."""
    return f"missing {', '.join(packages)} (needed by the tests); install with: " + (
        install_command(packages)
    )


def can_install() -> bool:
    return os.geteuid() == 0 and shutil.which("apt-get") is not None


def apt_install(packages: Sequence[str]) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *packages],
        check=True,
        env=env,
        stdout=subprocess.DEVNULL,
    )


def main(install: Callable[[Sequence[str]], None] = apt_install) -> int:
    need = missing()
    if not need:
        return 0
    if not can_install():
        print(f"test-deps: {hint(need)}", file=sys.stderr)
        return 1
    print(f"test-deps: installing {' '.join(need)} with apt-get", file=sys.stderr)
    try:
        install(need)
    except (OSError, subprocess.CalledProcessError) as exc:
        print(f"test-deps: apt-get failed ({exc}); {hint(need)}", file=sys.stderr)
        return 1
    if still := missing(need):
        print(f"test-deps: still {hint(still)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""A database that is not there at start: retry with backoff, then a clear message, never a
traceback; one that comes up while we wait is used."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from service.config import ROOT
from service.db import DatabaseUnavailable, wait_until_reachable
from service.db.engine import Engine
from tests.hardening.conftest import TcpProxy, closed_port, wait_for
from tests.mariadb import PASSWORD, MariaDBServer, free_port


class FlakyEngine(Engine):
    dialect = "singlestore"

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.pings = 0

    def ping(self) -> None:
        self.pings += 1
        if self.pings <= self.failures:
            raise DatabaseUnavailable("connection refused")

    def read(self, fn):  # noqa: ANN001, ANN201
        raise NotImplementedError

    def write(self, fn):  # noqa: ANN001, ANN201
        raise NotImplementedError

    def close(self) -> None:
        pass


def test_backoff_doubles_up_to_a_cap_then_the_database_answers() -> None:
    engine, pauses, retries = FlakyEngine(failures=6), [], []
    tries = wait_until_reachable(
        engine, 3600, lambda attempt, pause, exc: retries.append(attempt), sleep=pauses.append
    )
    assert tries == 7
    assert pauses == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert retries == [1, 2, 3, 4, 5, 6]


def test_waiting_is_bounded_by_the_timeout() -> None:
    started = time.monotonic()
    with pytest.raises(DatabaseUnavailable):
        wait_until_reachable(FlakyEngine(failures=10**6), 0.4)
    assert time.monotonic() - started < 2


def cli(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    full = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), **env}
    return subprocess.run(
        [sys.executable, "-m", "service", *args], env=full, cwd=ROOT, capture_output=True,
        text=True, timeout=timeout,
    )  # fmt: skip


@pytest.mark.parametrize("command", ["migrate", "serve"])
def test_unreachable_database_gives_up_with_a_clear_message(command: str, tmp_path: Path) -> None:
    url = f"singlestoredb://retail:s3cret-pw@127.0.0.1:{closed_port()}/retail_pulse"
    result = cli(
        command,
        # Long enough for a second retry even when the first try is slow on a busy machine.
        env={"DATABASE_URL": url, "DB_CONNECT_TIMEOUT": "5", "PORT": str(free_port()),
             "STORAGE_URL": f"file://{tmp_path / 'blobs'}", "LOG_FORMAT": "json"},
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert "s3cret-pw" not in result.stderr  # credentials stay out of logs
    assert result.stderr.count('"event": "database unreachable, retrying"') >= 2
    assert (
        f"error: the database at 127.0.0.1:{url.rsplit(':', 1)[1].split('/')[0]}/retail_pulse "
        "did not answer within 5 s" in result.stderr
    )
    assert "Check DATABASE_URL" in result.stderr


def test_serve_waits_for_a_database_that_comes_up_late(
    mariadb_server: MariaDBServer, mariadb_url: str, tmp_path: Path
) -> None:
    proxy = TcpProxy(mariadb_server.port)
    database = mariadb_url.rsplit("/", 1)[1]
    port = free_port()
    env = {
        "DATABASE_URL": f"singlestoredb://retail:{PASSWORD}@127.0.0.1:{proxy.port}/{database}",
        "STORAGE_URL": f"file://{tmp_path / 'blobs'}",
        "PORT": str(port),
        "DB_CONNECT_TIMEOUT": "30",
        "WORKER_ENABLED": "false",
        "LOG_LEVEL": "info",
    }
    assert cli("migrate", env={**env, "DATABASE_URL": mariadb_url}).returncode == 0
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "service", "serve"], cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
        env={"PATH": os.environ["PATH"], **env},
    )  # fmt: skip
    try:
        # The database "comes up" once serve has said it is waiting for it.
        wait_for(
            lambda: "database unreachable, retrying" in (tmp_path / "serve.log").read_text(),
            30, "serve reporting the unreachable database", every=0.05,
        )  # fmt: skip
        proxy.start()

        def ready() -> bool:
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                return httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_for(ready, 30, "serve answering /readyz", every=0.1)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        proxy.cut()
    text = (tmp_path / "serve.log").read_text()
    assert "database unreachable, retrying" in text
    assert "database reachable" in text
    assert "Traceback" not in text

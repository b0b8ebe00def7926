"""A throwaway MariaDB server standing in for SingleStore in tests.

`start()` copies an initialised data directory into a temp dir (made once by
mariadb-install-db and kept in the system temp dir), runs Debian's `mariadbd` there on a free
loopback port as a child process (no system service), creates a user with a password and
waits, polling, until that user can connect. The fixtures below share one server per test
session and give each test that wants it a database of its own.

Use from any conftest: `from tests.mariadb import mariadb_server, mariadb_url  # noqa: F401`.
"""

from __future__ import annotations

import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import singlestoredb

from scripts.system_deps import SEARCH_PATH
from tests.system_deps import require

USER = "retail"
PASSWORD = "retail-test-pw"
DATABASE = "retail_pulse"
START_TIMEOUT = 30.0

# Settings that make the server start fast and behave like SingleStore where it matters:
# utf8mb4, UTC, strict mode, READ COMMITTED. Durability is off: the data is thrown away.
_SERVER_OPTIONS = [
    "--bind-address=127.0.0.1",
    "--skip-name-resolve",
    "--character-set-server=utf8mb4",
    "--collation-server=utf8mb4_general_ci",
    "--default-time-zone=+00:00",
    "--sql-mode=STRICT_ALL_TABLES,NO_ENGINE_SUBSTITUTION",
    "--transaction-isolation=READ-COMMITTED",
    "--max-connections=500",
    "--performance-schema=OFF",
    "--innodb-buffer-pool-size=64M",
    "--innodb-log-file-size=16M",
    "--innodb-doublewrite=0",
    "--innodb-flush-log-at-trx-commit=0",
    "--skip-log-bin",
]


def binaries() -> tuple[str, str]:
    """Paths of mariadbd and mariadb-install-db; the test fails (`make test-deps`) without."""
    require("mariadb-server")
    server = shutil.which("mariadbd", path=SEARCH_PATH)
    install = shutil.which("mariadb-install-db", path=SEARCH_PATH)
    assert server and install  # require() checked both
    return server, install


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class MariaDBServer:
    port: int
    directory: Path
    process: subprocess.Popen[bytes]

    def url(self, database: str = DATABASE) -> str:
        return f"singlestoredb://{USER}:{PASSWORD}@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = DATABASE) -> singlestoredb.connection.Connection:
        """A plain autocommit client connection, for setup and for poking at the server."""
        return singlestoredb.connect(
            self.url(database), autocommit=True, results_type="tuples", connect_timeout=2
        )

    def execute(self, sql: str) -> list[tuple]:
        """Run one statement on a short-lived connection; return its rows."""
        connection = self.connect()
        try:
            cursor = connection.cursor()
            cursor.execute(sql)
            return list(cursor.fetchall()) if cursor.description else []
        finally:
            connection.close()

    def log_tail(self, lines: int = 20) -> str:
        log = self.directory / "error.log"
        return "\n".join(log.read_text().splitlines()[-lines:]) if log.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.directory, ignore_errors=True)


def _init_sql(directory: Path) -> Path:
    path = directory / "init.sql"
    path.write_text(
        f"CREATE USER IF NOT EXISTS '{USER}'@'%' IDENTIFIED BY '{PASSWORD}';\n"
        f"GRANT ALL PRIVILEGES ON *.* TO '{USER}'@'%';\n"
        f"CREATE DATABASE IF NOT EXISTS {DATABASE};\n"
    )
    return path


def _root_options() -> list[str]:
    # mariadbd refuses to run as root unless told to; as another user it needs nothing.
    return ["--user=root"] if os.geteuid() == 0 else []


def _wait_ready(server: MariaDBServer, deadline: float) -> None:
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"mariadbd exited early:\n{server.log_tail()}")
        try:
            server.connect().close()
            return
        except singlestoredb.Error:
            if time.monotonic() > deadline:
                raise RuntimeError(f"mariadbd not ready in time:\n{server.log_tail()}") from None
            time.sleep(0.05)


def _template_datadir(server_bin: str, install_bin: str) -> Path:
    """An initialised data directory, made once per MariaDB build and copied for each server:
    mariadb-install-db is most of the start-up time, and its output is always the same."""
    build = Path(server_bin).stat()
    template = (
        Path(tempfile.gettempdir()) / f"retail-mariadb-template-{build.st_size}-{build.st_mtime_ns}"
    )
    if not template.is_dir():
        staging = Path(tempfile.mkdtemp(prefix="retail-mariadb-staging-"))
        installed = subprocess.run(
            [install_bin, "--no-defaults", f"--datadir={staging / 'data'}", *_root_options(),
             "--auth-root-authentication-method=normal", "--skip-test-db",
             "--innodb-log-file-size=16M"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        if installed.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            raise RuntimeError(f"mariadb-install-db failed:\n{installed.stderr[-2000:]}")
        try:
            staging.rename(template)  # atomic: a session racing us may have won, which is fine
        except OSError:
            shutil.rmtree(staging, ignore_errors=True)
    return template / "data"


def start(attempts: int = 3, options: tuple[str, ...] = ()) -> MariaDBServer:
    """Start a fresh server; retried on another port if the chosen one was taken meanwhile.
    `options` come after the defaults, so they can override them."""
    server_bin, install_bin = binaries()
    template = _template_datadir(server_bin, install_bin)
    for attempt in range(1, attempts + 1):
        directory = Path(tempfile.mkdtemp(prefix="retail-mariadb-"))
        shutil.copytree(template, directory / "data")
        port = free_port()
        process = subprocess.Popen(
            [server_bin, "--no-defaults", f"--datadir={directory / 'data'}", *_root_options(),
             *_SERVER_OPTIONS, *options, f"--port={port}", f"--socket={directory / 'mysqld.sock'}",
             f"--pid-file={directory / 'mysqld.pid'}", f"--log-error={directory / 'error.log'}",
             f"--tmpdir={directory}", f"--init-file={_init_sql(directory)}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        server = MariaDBServer(port, directory, process)
        try:
            _wait_ready(server, time.monotonic() + START_TIMEOUT)
            return server
        except RuntimeError:
            server.stop()
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


# -- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer]:
    """One MariaDB server for the whole session (its tests fail if MariaDB is not installed)."""
    server = start()
    try:
        yield server
    finally:
        server.stop()


_database_numbers = itertools.count(1)


@pytest.fixture
def mariadb_url(mariadb_server: MariaDBServer) -> Iterator[str]:
    """A `singlestoredb://` URL to an empty database of this test's own, dropped afterwards."""
    name = f"test_{os.getpid()}_{next(_database_numbers)}"
    mariadb_server.execute(f"CREATE DATABASE {name}")
    yield mariadb_server.url(name)
    mariadb_server.execute(f"DROP DATABASE IF EXISTS {name}")


# -- SingleStore's DOT_PRODUCT, for the kNN SQL ------------------------------------------------

# MariaDB 10.11 has no vector functions. These stored functions read VECTOR(n, F32) values as
# SingleStore stores them (and mysql_compat keeps them: little-endian float32 bytes in a BLOB),
# so the SingleStore dialect's kNN SQL runs here as written. Slow (a loop per row), which is
# fine for the few dozen rows a test uses.
_DOT_PRODUCT = (
    """CREATE FUNCTION f32_le(x BINARY(4)) RETURNS DOUBLE DETERMINISTIC
    BEGIN
        DECLARE bits BIGINT DEFAULT CONV(HEX(REVERSE(x)), 16, 10);
        DECLARE e INT DEFAULT (bits >> 23) & 255;
        DECLARE m BIGINT DEFAULT bits & 8388607;
        DECLARE v DOUBLE DEFAULT IF(e = 0, m * POW(2, -149), (m + 8388608) * POW(2, e - 150));
        RETURN IF(bits >> 31, -v, v);
    END""",
    """CREATE FUNCTION DOT_PRODUCT(a LONGBLOB, b LONGBLOB) RETURNS DOUBLE DETERMINISTIC
    BEGIN
        DECLARE i INT DEFAULT 0;
        DECLARE total DOUBLE DEFAULT 0;
        IF a IS NULL OR b IS NULL OR LENGTH(a) <> LENGTH(b) THEN RETURN NULL; END IF;
        WHILE i < LENGTH(a) DO
            SET total = total + f32_le(SUBSTRING(a, i + 1, 4)) * f32_le(SUBSTRING(b, i + 1, 4));
            SET i = i + 4;
        END WHILE;
        RETURN total;
    END""",
)


def install_dot_product(server: MariaDBServer, database: str) -> None:
    """Define DOT_PRODUCT (SingleStore's semantics on float32 bytes) in `database`."""
    connection = server.connect(database)
    try:
        cursor = connection.cursor()
        for statement in _DOT_PRODUCT:
            cursor.execute(statement)
    finally:
        connection.close()

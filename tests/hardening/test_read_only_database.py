"""A database that answers reads but refuses writes (issue 18, item 7): /readyz says 503 and
why, every write answers 503 with a clear JSON error (never 500), nothing is half-written,
and the service is ready again as soon as writes are accepted.

SQLite: the writer connection set `query_only` (SQLITE_READONLY, what a read-only file, folder
or mount gives). MariaDB (the SingleStore engine): new sessions' transactions read-only (errno
1792); the same mapping covers a read-only server (1290, 1836) and missing privileges (1142).
"""

from __future__ import annotations

import asyncio

import msgspec
from litestar import Litestar
from litestar.testing import TestClient

from service.app import create_app
from service.config import Settings
from tests.conftest import make_app
from tests.jobs.conftest import load_test_stores, visit
from tests.mariadb import MariaDBServer

REFUSED = {"error": "the database refuses writes (read-only), retry later"}
JOB = {"count": 1, "visits": [visit("RP00001", "http://127.0.0.1:9/a.jpg")]}


def _assert_read_only(client: TestClient[Litestar]) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 503, ready.text
    body = ready.json()
    assert body["status"] == "not ready" and body["storage"] == "ok"
    assert body["database"].startswith("error: DatabaseReadOnly: the database refuses writes")
    submitted = client.post("/api/submit", json=JOB)
    assert (submitted.status_code, submitted.json()) == (503, REFUSED)
    session = client.post("/qa/session", headers={"username": "reviewer"})
    assert (session.status_code, session.json()) == (503, REFUSED)
    assert client.get("/api/products").status_code == 200  # reads still work


def _assert_writable(client: TestClient[Litestar]) -> None:
    assert client.get("/readyz").status_code == 200
    assert client.post("/api/submit", json=JOB).status_code == 201


def test_sqlite_that_refuses_writes_is_not_ready_and_writes_get_503(settings: Settings) -> None:
    with TestClient(app=make_app(settings), raise_server_exceptions=False) as client:
        asyncio.run(load_test_stores(client))
        assert client.post("/api/submit", json=JOB).status_code == 201  # job 1, stored before
        writer = client.app.state.services.db.engine._writer
        writer.execute("PRAGMA query_only = ON")
        try:
            _assert_read_only(client)
        finally:
            writer.execute("PRAGMA query_only = OFF")
        _assert_writable(client)
        jobs = client.app.state.services.db.engine.read(
            lambda s: s.raw("SELECT COUNT(*) AS n FROM jobs")
        )
        assert jobs[0]["n"] == 2  # the refused submit left nothing behind


def _mariadb_client(settings: Settings, url: str) -> TestClient[Litestar]:
    """The app on `url`, as is (the database is migrated already)."""
    return TestClient(
        app=create_app(msgspec.structs.replace(settings, database_url=url), configure_logs=False),
        raise_server_exceptions=False,
    )


def test_mariadb_that_refuses_writes_is_not_ready_until_it_takes_them_again(
    settings: Settings, mariadb_server: MariaDBServer, mariadb_url: str
) -> None:
    """Every new session's transactions read-only (errno 1792 on a write): what a replica or a
    database switched to read-only gives, for any user."""
    with TestClient(app=make_app(settings, database_url=mariadb_url)) as owner:  # migrates
        asyncio.run(load_test_stores(owner))
    mariadb_server.execute("SET GLOBAL TRANSACTION READ ONLY")
    try:
        with _mariadb_client(settings, mariadb_url) as client:
            _assert_read_only(client)
    finally:
        mariadb_server.execute("SET GLOBAL TRANSACTION READ WRITE")
    with _mariadb_client(settings, mariadb_url) as client:
        _assert_writable(client)

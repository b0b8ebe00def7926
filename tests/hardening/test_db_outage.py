"""The database goes away mid-run (SingleStore engine, on MariaDB): /readyz and requests answer
503 with a JSON error, the job worker backs off without dying, and when the database is back
the service recovers on its own, with no accepted job or vote lost."""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.config import Settings
from service.jobs import worker as worker_module
from tests.conftest import make_app
from tests.hardening.conftest import TcpProxy, load_small_catalog, wait_for
from tests.jobs.conftest import (
    ImageServer,
    load_test_stores,
    running_client,
    submit,
    visit,
    wait_settled,
)
from tests.mariadb import PASSWORD, MariaDBServer, _wait_ready, start

UNAVAILABLE = {"error": "service temporarily unavailable, retry later"}


def outage_settings(settings: Settings, url: str) -> Settings:
    return msgspec.structs.replace(
        settings,
        database_url=url,
        worker_enabled=True,
        lease_seconds=5.0,
        job_concurrency=4,
        db_pool_size=4,
    )


def completed(client: TestClient[Litestar], job_id: int, timeout: float) -> bool:
    """The job completed; if not, fail showing its report (which image, what error)."""
    status = wait_settled(client, job_id, timeout=timeout)
    assert status["status"] == "completed", client.get(f"/api/jobs/{job_id}").json()
    return True


def job_workers() -> list[worker_module.JobWorker]:
    return list(worker_module._workers)


def one_result_per_image(client: TestClient[Litestar], job_id: int, images: int) -> None:
    report = client.get(f"/api/jobs/{job_id}").json()
    assert report["counts"]["done"] == images, report["counts"]
    seqs = client.app.state.services.db.engine.read(
        lambda s: s.raw("SELECT seq FROM image_results WHERE job_id = %(j)s", {"j": job_id})
    )
    assert sorted(row["seq"] for row in seqs) == list(range(images))


@pytest.fixture
def proxy(mariadb_server: MariaDBServer) -> Iterator[TcpProxy]:
    proxy = TcpProxy(mariadb_server.port)
    proxy.start()
    yield proxy
    proxy.cut()


def test_cut_database_gives_503s_and_the_service_recovers_with_nothing_lost(
    settings: Settings, mariadb_url: str, proxy: TcpProxy, image_server: ImageServer
) -> None:
    database = mariadb_url.rsplit("/", 1)[1]
    url = f"singlestoredb://retail:{PASSWORD}@127.0.0.1:{proxy.port}/{database}"
    app = make_app(outage_settings(settings, url))
    load_small_catalog(app.state.settings, products=2, snapshots=4)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        client.blocking_portal.call(load_test_stores, client)
        # Accepted before the outage: a job whose images are still being fetched, and a vote.
        slow = [image_server.url(f"/img/{n}x3.png?slow=0.4") for n in range(1, 9)]
        job_id = submit(client, visit("RP00001", *slow))
        session = client.post("/qa/session", headers={"username": "alice"}).json()
        first, second = (s["snapshot_id"] for s in session["snapshots"][:2])
        vote = f"/qa/session/{session['session_id']}/snapshot/{{}}"
        answer = {"json": {"is_match": True}, "headers": {"username": "alice"}}
        assert client.patch(vote.format(first), **answer).status_code == 200
        assert client.get("/readyz").status_code == 200

        proxy.cut()
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["database"].startswith("error: DatabaseUnavailable")
        during: list[Any] = [
            client.get(f"/api/status?jobid={job_id}"),
            client.get(f"/api/jobs/{job_id}"),
            client.post("/api/submit/", json={"count": 1, "visits": [visit("RP00002", slow[0])]}),
            client.post("/qa/session", headers={"username": "bob"}),
            client.patch(vote.format(second), **answer),
            client.get("/qa/leaderboard", headers={"username": "alice"}),
            client.get("/api/products"),
        ]
        assert [(r.status_code, r.json()) for r in during] == [(503, UNAVAILABLE)] * len(during)
        assert client.get("/healthz").status_code == 200  # alive, just not ready
        metrics = client.get("/metrics")
        assert metrics.status_code == 200 and "retail_pulse_database_up 0.0" in metrics.text
        time.sleep(2.5)  # several failed claims: the worker must back off, not die
        assert [w._loop_task.done() for w in job_workers()] == [False]

        proxy.start()
        wait_for(lambda: client.get("/readyz").status_code == 200, 20, "ready again")
        # The vote refused during the outage is sent again, as the QA page does.
        assert client.patch(vote.format(second), **answer).status_code == 200
        assert completed(client, job_id, 30)
        one_result_per_image(client, job_id, len(slow))
        votes = client.app.state.services.db.engine.read(
            lambda s: s.raw("SELECT snapshot_id FROM qa_assignments WHERE is_match IS NOT NULL")
        )
        assert sorted(v["snapshot_id"] for v in votes) == sorted([first, second])
        # New work is accepted and done.
        later = submit(client, visit("RP00002", image_server.url("/img/5x5.png")))
        assert completed(client, later, 30)
        # The metrics queries run on this engine too.
        metrics = client.get("/metrics").text
        for line in (
            "retail_pulse_database_up 1.0",
            'retail_pulse_jobs{state="completed"} 2.0',
            'retail_pulse_job_images{state="done"} 9.0',
            'retail_pulse_qa_votes_total{verdict="match"} 2.0',
        ):
            assert line in metrics.splitlines(), line


def test_killed_connections_are_replaced_without_errors(
    settings: Settings, mariadb_server: MariaDBServer, mariadb_url: str
) -> None:
    app = make_app(outage_settings(settings, mariadb_url), worker_enabled=False)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        assert client.get("/api/products").status_code == 200
        database = mariadb_url.rsplit("/", 1)[1]
        for (connection_id,) in mariadb_server.execute(
            f"SELECT ID FROM information_schema.PROCESSLIST WHERE DB = '{database}'"
        ):
            mariadb_server.execute(f"KILL CONNECTION {int(connection_id)}")
        # Pooled connections are dead; reads and transactions get fresh ones.
        assert client.get("/api/products").status_code == 200
        body = {"count": 1, "visits": [visit("RP00001", "http://example.com/a.jpg")]}
        assert client.post("/api/submit/", json=body).status_code == 201


def test_a_restarted_server_is_found_again(settings: Settings, image_server: ImageServer) -> None:
    """The real thing: the database server shuts down (error 1053 to running queries, then
    refused connections) and starts again on the same port."""
    own = start()  # not the shared server: this one is stopped
    try:
        own.execute("CREATE DATABASE outage")
        app = make_app(outage_settings(settings, own.url("outage")))
        with TestClient(app=app, raise_server_exceptions=False) as client:
            client.blocking_portal.call(load_test_stores, client)
            urls = [image_server.url(f"/img/{n}x2.png?slow=0.3") for n in range(1, 7)]
            job_id = submit(client, visit("RP00001", *urls))
            own.process.send_signal(signal.SIGTERM)
            own.process.wait(timeout=30)
            assert client.get("/readyz").status_code == 503
            status = client.get(f"/api/status?jobid={job_id}")
            assert (status.status_code, status.json()) == (503, UNAVAILABLE)
            restart_args = own.process.args
            own.process = subprocess.Popen(
                restart_args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
            _wait_ready(own, time.monotonic() + 30)
            wait_for(lambda: client.get("/readyz").status_code == 200, 20, "ready again")
            assert completed(client, job_id, 30)
            one_result_per_image(client, job_id, len(urls))
    finally:
        own.stop()


def test_a_result_written_during_a_blip_is_retried_not_redone(
    settings: Settings, image_server: ImageServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The image was processed; the database refused its result twice. The worker retries the
    write instead of leaving the image to be downloaded again after its lease (attempt 2)."""
    from service.db import DatabaseUnavailable
    from service.jobs import repository

    real_settle, refusals = repository.settle_images, []

    async def flaky_settle(db, results):  # noqa: ANN001, ANN202
        if len(refusals) < 2:
            refusals.append([result.image.seq for result in results])
            raise DatabaseUnavailable("connection refused")
        return await real_settle(db, results)

    monkeypatch.setattr(repository, "settle_images", flaky_settle)
    with running_client(settings, lease_seconds=2.0) as client:
        client.blocking_portal.call(load_test_stores, client)
        job_id = submit(client, visit("RP00001", image_server.url("/img/3x3.png")))
        assert completed(client, job_id, 20)
        rows = client.app.state.services.db.engine.read(
            lambda s: s.raw("SELECT attempts FROM image_results")
        )
    assert refusals == [[0], [0]]
    assert rows == [{"attempts": 1}]


def test_sqlite_locked_past_the_busy_timeout_is_unavailable(tmp_path) -> None:  # noqa: ANN001
    """Another process holding the write lock (an open transaction in `python -m service sql`)
    is a wait-and-retry condition, answered 503 like any unavailable database."""
    import sqlite3

    from service.config import SQL_DIR
    from service.db import DatabaseUnavailable, Queries
    from service.db.sqlite import SQLiteEngine

    path = tmp_path / "locked.db"
    engine = SQLiteEngine(path, Queries(SQL_DIR, "sqlite"), busy_timeout_ms=100)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(DatabaseUnavailable, match="locked"):
            engine.write(lambda session: session.raw("CREATE TABLE t (x INTEGER)"))
        other.execute("ROLLBACK")
        engine.write(lambda session: session.raw("CREATE TABLE t (x INTEGER)"))
    finally:
        other.close()
        engine.close()

"""`make loadtest`'s proof step: after the load, the database must hold exactly what the
clients were told. The proof passes on a faithful database and names each kind of loss."""

from __future__ import annotations

from collections import Counter

from litestar.testing import TestClient

from scripts.loadtesting import clients, proof
from service.catalog.synthetic import load_catalog
from service.config import SQL_DIR, Settings
from service.db import create_engine
from service.storage import create_blob_store
from tests.conftest import make_app
from tests.jobs.conftest import ImageServer, load_test_stores, submit, visit, wait_settled

REVIEWER = {"username": "loadtest-qa-0"}


def _sql(settings: Settings, text: str) -> None:
    engine = create_engine(settings.database_url, SQL_DIR)
    try:
        engine.write(lambda session: session.raw(text))
    finally:
        engine.close()


def _failed(record: clients.Record, settings: Settings) -> set[str]:
    return {name for name, ok, _ in proof.check(record, settings.database_url) if not ok}


def _load(settings: Settings, image_server: ImageServer) -> clients.Record:
    """A little of what the load phase does: one job, one verdict; and what it recorded."""
    app = make_app(settings, worker_enabled=True)  # migrates
    engine, blobs = (
        create_engine(settings.database_url, SQL_DIR),
        create_blob_store(settings.storage_url),
    )
    try:
        load_catalog(engine, blobs, products=2, snapshots=4, seed=0)
    finally:
        engine.close()
        blobs.close()
    urls = [image_server.url("/img/10x20.png"), image_server.url("/img/30x40.png")]
    with TestClient(app=app, raise_server_exceptions=False) as client:
        client.blocking_portal.call(load_test_stores, client)
        job_id = submit(client, visit("RP00001", *urls))
        assert wait_settled(client, job_id)["status"] == "completed"
        session = client.post("/qa/session", headers=REVIEWER).json()
        snapshot_id = session["snapshots"][0]["snapshot_id"]
        answer = client.patch(
            f"/qa/session/{session['session_id']}/snapshot/{snapshot_id}",
            json={"is_match": True},
            headers=REVIEWER,
        )
        assert answer.status_code == 200, answer.text
    record = clients.Record(jobs={job_id: len(urls)}, settled={job_id: "completed"})
    record.verdicts[(snapshot_id, REVIEWER["username"])] = True
    return record


def test_the_proof_holds_on_what_was_stored_and_names_each_loss(
    settings: Settings, image_server: ImageServer
) -> None:
    record = _load(settings, image_server)
    assert _failed(record, settings) == set()

    # a verdict a client was told was stored, but that is not
    told = clients.Record(jobs=record.jobs, settled=record.settled)
    told.verdicts = {**record.verdicts, (next(iter(record.verdicts))[0], "someone"): False}
    assert _failed(told, settings) == {
        "every 200 verdict stored once, as sent",
        "snapshot vote counts equal the 200 verdicts",
    }
    # an answer the clients did not expect (a 500, say)
    odd = clients.Record(jobs=record.jobs, settled=record.settled, verdicts=record.verdicts)
    odd.unexpected["submit"] = Counter({"500": 1})
    assert _failed(odd, settings) == {"no unexpected answers"}
    # a job a client saw accepted but never saw completed
    stuck = clients.Record(jobs=record.jobs, settled={}, verdicts=record.verdicts)
    assert _failed(stuck, settings) == {"every accepted job completed"}
    # an image result lost after the job was reported complete
    _sql(settings, "DELETE FROM image_results WHERE seq = 1")
    assert _failed(record, settings) == {"one done result row per submitted image"}

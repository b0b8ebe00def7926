"""`BENCH=qa`: QA session latency on the embedded engine, through a real server on loopback.

Setup, written straight into a temp SQLite database: 100,000 snapshots over 500 products and
1,000 QA users' history (one completed 100-snapshot session each: 40,000 snapshots resolved
2-0, 20,000 with one verdict, 40,000 untouched). Then `python -m service serve` runs on it and
one client measures, sequentially:

- POST /qa/session (QA_SESSION_SIZE=100) for 200 users who have history;
- PATCH /qa/session/{id}/snapshot/{id} for every snapshot of 40 of those sessions;
- GET /qa/leaderboard over all that history.

Before the server starts, the assisted rule's refit on that database: reading its 100,000
verdicts (`em_read_100k`) and fitting them (`em_fit_db_100k`); and the EM fit alone on
synthetic verdicts (scripts/bench_em.py).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

from scripts.bench import Metric
from scripts.bench_em import measure as measure_em
from scripts.processes import child, free_port
from service.catalog.synthetic import load_catalog
from service.clock import utcnow
from service.config import SQL_DIR
from service.db import Engine, Session, create_engine, migrate
from service.qa import em
from service.qa.assisted import read_evidence
from service.storage import create_blob_store

SNAPSHOTS = 100_000
PRODUCTS = 500
USERS = 1_000
HISTORY_PER_USER = 100
RESOLVED = 40_000  # snapshots settled 2-0 by two history users
ONE_VOTE = 20_000  # snapshots with a single verdict
SESSIONS_TIMED = 200
SESSIONS_ANSWERED = 40


def _log(message: str) -> None:
    print(f"[bench] qa: {message}", file=sys.stderr, flush=True)


def _state(i: int) -> tuple[str, int, int]:
    if i < RESOLVED:
        return ("mismatch", 0, 2) if i % 10 == 0 else ("match", 2, 0)
    if i < RESOLVED + ONE_VOTE:
        return ("pending", 1, 0)
    return ("pending", 0, 0)


def _history(engine: Engine, snapshot_ids: list[int]) -> None:
    """Every verdict the snapshot states imply, 100 per user, one completed session each."""
    verdicts: list[tuple[int, int]] = []  # (snapshot index, is_match)
    for i in range(RESOLVED):
        status, matches, _ = _state(i)
        verdicts += [(i, int(matches > 0)), (i, int(matches > 0))]
    verdicts += [(i, 1) for i in range(RESOLVED, RESOLVED + ONE_VOTE)]
    assert len(verdicts) == USERS * HISTORY_PER_USER
    now = utcnow()

    def load(session: Session) -> None:
        session_ids = []
        for u in range(USERS):
            result = session.execute(
                "qa_load_session",
                {"username": f"u{u:04d}", "status": "completed", "size": HISTORY_PER_USER,
                 "answered": HISTORY_PER_USER, "now": now},
            )  # fmt: skip
            session_ids.append(result.lastrowid)
        positions = [0] * USERS
        rows = []
        for k, (index, is_match) in enumerate(verdicts):
            u = k % USERS  # the two verdicts on one snapshot come from different users
            rows.append(
                {"snapshot_id": snapshot_ids[index], "username": f"u{u:04d}",
                 "session_id": session_ids[u], "position": positions[u], "is_match": is_match,
                 "now": now}
            )  # fmt: skip
            positions[u] += 1
        session.execute_many("qa_load_assignment", rows)
        session.execute_many(
            "qa_ensure_user", [{"username": f"u{u:04d}", "now": now} for u in range(USERS)]
        )

    engine.write(load)
    engine.write(lambda session: session.raw("ANALYZE"))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _refit_timings(engine: Engine) -> list[Metric]:
    """A refit of the assisted rule on the loaded history: the read, then the fit."""
    started = time.perf_counter()
    evidence = engine.read(lambda session: read_evidence(session, "default"))
    read = time.perf_counter() - started
    started = time.perf_counter()
    fit = em.fit(evidence)
    fitted = time.perf_counter() - started
    _log(f"refit on {fit.verdicts} verdicts: {fit.iterations} iterations")
    return [
        Metric(section="qa", name="em_read_100k", value=read * 1000.0, unit="ms"),
        Metric(section="qa", name="em_fit_db_100k", value=fitted * 1000.0, unit="ms"),
    ]


def run() -> list[Metric]:
    metrics: list[Metric] = measure_em()

    def metric(name: str, value: float, unit: str) -> None:
        metrics.append(Metric(section="qa", name=name, value=value, unit=unit))

    with tempfile.TemporaryDirectory(prefix="bench-qa-") as tmp:
        root = Path(tmp)
        database_url = f"sqlite:///{root / 'bench.db'}"
        storage_url = f"file://{root / 'blobs'}"
        engine = create_engine(database_url, SQL_DIR)
        blobs = create_blob_store(storage_url)
        try:
            migrate(engine, SQL_DIR)
            started = time.perf_counter()
            ids = load_catalog(engine, blobs, products=PRODUCTS, snapshots=SNAPSHOTS, seed=1,
                               state=_state)  # fmt: skip
            _history(engine, ids)
            _log(f"loaded {SNAPSHOTS} snapshots and {USERS} users' history "
                 f"in {time.perf_counter() - started:.1f}s")  # fmt: skip
            metrics += _refit_timings(engine)
        finally:
            engine.close()
            blobs.close()

        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DATABASE_URL": database_url, "STORAGE_URL": storage_url,
               "PORT": str(port), "HOST": "127.0.0.1", "WORKER_ENABLED": "false",
               "LOG_LEVEL": "warning", "QA_SESSION_SIZE": "100"}  # fmt: skip
        with (
            child([sys.executable, "-m", "service", "serve"], env, f"{base}/healthz", "service"),
            httpx.Client(base_url=base, timeout=30) as client,
        ):
            users = random.Random(3).sample(range(USERS), SESSIONS_TIMED)
            created: list[float] = []
            sessions = []
            for u in users:
                t0 = time.perf_counter()
                response = client.post("/qa/session", headers={"username": f"u{u:04d}"})
                created.append(time.perf_counter() - t0)
                response.raise_for_status()
                sessions.append((f"u{u:04d}", response.json()))
            assert all(len(s["snapshots"]) == 100 for _, s in sessions)
            answered: list[float] = []
            rng = random.Random(5)
            for name, session in sessions[:SESSIONS_ANSWERED]:
                for item in session["snapshots"]:
                    url = f"/qa/session/{session['session_id']}/snapshot/{item['snapshot_id']}"
                    t0 = time.perf_counter()
                    response = client.patch(url, json={"is_match": rng.random() < 0.9},
                                            headers={"username": name})  # fmt: skip
                    answered.append(time.perf_counter() - t0)
                    response.raise_for_status()
            board: list[float] = []
            for _ in range(5):
                t0 = time.perf_counter()
                client.get("/qa/leaderboard", headers={"username": "bench"}).raise_for_status()
                board.append(time.perf_counter() - t0)

    ms = 1000.0
    metric("post_session_p50", statistics.median(created) * ms, "ms")
    metric("post_session_p99", _percentile(created, 0.99) * ms, "ms")
    metric("patch_p50", statistics.median(answered) * ms, "ms")
    metric("patch_p99", _percentile(answered, 0.99) * ms, "ms")
    metric("leaderboard_p50", statistics.median(board) * ms, "ms")
    _log(f"{len(created)} sessions created, {len(answered)} verdicts recorded")
    return metrics

"""`make loadtest`: concurrent clients against a real server on loopback, then proof that
nothing was lost.

The service runs as `python -m service serve` (uvicorn, `scripts.harness.served`) on a free
127.0.0.1 port over a temp SQLite database seeded by `python -m service seed` (demo stores and
catalog), with ALLOW_PRIVATE_IMAGE_URLS=true and a small PROCESSING_DELAY; the loopback image
server (`scripts.harness.image_server`, keep-alive) serves small PNGs from its own process.
For `--seconds`, job clients submit jobs and poll their status until they settle, and QA
clients run sessions and send verdicts (asyncio + httpx).
Then every accepted job is awaited (at most `--drain-seconds`), the server is stopped, and
the database is checked: every accepted job completed with one result row per image, and
every verdict answered 200 is counted once (its assignment row and its snapshot's counts).

Bounded: `--seconds` of load, at most `--max-requests` requests, a drain deadline; nothing
leaves 127.0.0.1. Prints a table per endpoint (requests, req/s, p50, p99, max, unexpected
answers), the checks, and one JSON line. Exit status 0 only if every check holds.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import random
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from PIL import Image

from scripts.harness.image_server import image_server_process
from scripts.harness.served import Served

IMAGES = 400  # distinct PNGs on the image server


def _log(message: str) -> None:
    print(f"[loadtest] {message}", file=sys.stderr, flush=True)


# -- processes --------------------------------------------------------------------------------


def _write_images(directory: Path) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(IMAGES):
        out = io.BytesIO()
        colour = (n * 37 % 256, n * 91 % 256, n * 53 % 256)
        Image.new("RGB", (64 + n % 32, 48 + n % 16), colour).save(out, "PNG")
        (directory / f"{n}.png").write_bytes(out.getvalue())


def _add_snapshots(env: dict[str, str], count: int) -> None:
    """More pending snapshots, written straight to the tables (fast; tiny shared images)."""
    from service.catalog.synthetic import load_catalog
    from service.config import SQL_DIR
    from service.db import create_engine
    from service.storage import create_blob_store

    engine = create_engine(env["DATABASE_URL"], SQL_DIR)
    blobs = create_blob_store(env["STORAGE_URL"])
    try:
        load_catalog(engine, blobs, products=20, snapshots=count, seed=7)
    finally:
        engine.close()
        blobs.close()


def _service(workdir: Path, options: argparse.Namespace) -> Served:
    return Served(
        workdir,
        database="loadtest.db",
        log="service.log",
        PUBLIC_URL="",
        API_KEYS="",  # open, as for local demos
        PROCESSING_DELAY=options.delay,
        QA_SESSION_SIZE=str(options.session_size),
    )


# -- load -------------------------------------------------------------------------------------


@dataclass
class Record:
    """Everything the clients saw, for the report and the checks."""

    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    unexpected: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    jobs: dict[int, int] = field(default_factory=dict)  # accepted job id -> image count
    settled: dict[int, str] = field(default_factory=dict)  # job id -> last status seen
    verdicts: dict[tuple[int, str], bool] = field(default_factory=dict)  # answered with 200
    sessions: int = 0
    queue_empty_at: float | None = None


class Budget:
    """The request budget shared by all clients, and the end of the load phase."""

    def __init__(self, seconds: float, max_requests: int) -> None:
        self.ends = time.monotonic() + seconds
        self.left = max_requests

    def take(self) -> bool:
        if self.left <= 0 or time.monotonic() >= self.ends:
            return False
        self.left -= 1
        return True


async def _call(
    client: httpx.AsyncClient,
    record: Record,
    endpoint: str,
    expected: tuple[int, ...],
    method: str,
    url: str,
    **kwargs: Any,
) -> httpx.Response | None:
    """One timed request; None on a transport error (counted as unexpected)."""
    started = time.perf_counter()
    try:
        response = await client.request(method, url, **kwargs)
    except httpx.HTTPError as exc:
        record.unexpected[endpoint][type(exc).__name__] += 1
        return None
    record.latencies[endpoint].append(time.perf_counter() - started)
    if response.status_code not in expected:
        record.unexpected[endpoint][f"{response.status_code} {response.text[:80]}"] += 1
    return response


def _job_body(rng: random.Random, images_base: str) -> tuple[dict[str, Any], int]:
    visits = []
    for _ in range(rng.randint(1, 3)):
        urls = [f"{images_base}/{rng.randrange(IMAGES)}.png" for _ in range(rng.randint(1, 8))]
        visits.append(
            {
                "store_id": f"RP{rng.randint(1, 60):05d}",  # the demo store master
                "image_url": urls,
                "visit_time": "2026-11-21T10:00:00+05:30",
            }
        )
    return {"count": len(visits), "visits": visits}, sum(len(v["image_url"]) for v in visits)


async def job_client(
    client: httpx.AsyncClient, record: Record, budget: Budget, images_base: str, seed: int
) -> None:
    """Submit a job, poll its status until it settles, repeat."""
    rng = random.Random(seed)
    while budget.take():
        body, images = _job_body(rng, images_base)
        response = await _call(
            client, record, "POST /api/submit", (201,), "POST", "/api/submit", json=body
        )
        if response is None or response.status_code != 201:
            continue
        job_id = response.json()["job_id"]
        record.jobs[job_id] = images
        while True:
            await asyncio.sleep(0.2)
            if not budget.take():
                return  # the drain phase waits for it
            status = await _call(
                client,
                record,
                "GET /api/status",
                (200,),
                "GET",
                "/api/status",
                params={"jobid": job_id},
            )
            if status is not None and status.status_code == 200:
                state = status.json()["status"]
                if state != "ongoing":
                    record.settled[job_id] = state
                    break


async def qa_client(
    client: httpx.AsyncClient, record: Record, budget: Budget, name: str, seed: int, t0: float
) -> None:
    """Start a session, answer every snapshot in it, repeat; wait a little when the queue
    has nothing for this QA (others may still release or need votes)."""
    rng = random.Random(seed)
    headers = {"username": name}
    while budget.take():
        response = await _call(
            client, record, "POST /qa/session", (201, 400), "POST", "/qa/session", headers=headers
        )
        if response is None:
            continue
        if response.status_code == 400:
            if response.json().get("error") != "Not enough snapshots to validate":
                record.unexpected["POST /qa/session"][response.text[:80]] += 1
            if record.queue_empty_at is None:
                record.queue_empty_at = time.monotonic() - t0
            await asyncio.sleep(0.5)
            continue
        session = response.json()
        record.sessions += 1
        for item in session["snapshots"]:
            if not budget.take():
                return
            verdict = rng.random() < 0.8
            snapshot_id = item["snapshot_id"]
            path = f"/qa/session/{session['session_id']}/snapshot/{snapshot_id}"
            answer = await _call(
                client,
                record,
                "PATCH /qa/session/{id}/snapshot/{id}",
                (200,),
                "PATCH",
                path,
                json={"is_match": verdict},
                headers=headers,
            )
            if answer is not None and answer.status_code == 200:
                record.verdicts[(snapshot_id, name)] = verdict


async def load(options: argparse.Namespace, base: str, images_base: str) -> tuple[Record, float]:
    record = Record()
    budget = Budget(options.seconds, options.max_requests)
    clients = options.job_clients + options.qa_clients
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base, timeout=30, limits=limits, trust_env=False
    ) as client:
        t0 = time.monotonic()
        await asyncio.gather(
            *[
                job_client(client, record, budget, images_base, options.seed * 1000 + n)
                for n in range(options.job_clients)
            ],
            *[
                qa_client(client, record, budget, f"loadtest-qa-{n}", options.seed * 1000 + n, t0)
                for n in range(options.qa_clients)
            ],
        )
        elapsed = time.monotonic() - t0
        await drain(client, record, options.drain_seconds)
    return record, elapsed


async def drain(client: httpx.AsyncClient, record: Record, seconds: float) -> None:
    """Poll every accepted, unsettled job until it settles or the deadline passes."""
    deadline = time.monotonic() + seconds
    waiting = [job for job in record.jobs if job not in record.settled]
    _log(f"load over; waiting for {len(waiting)} job(s) to settle")
    while waiting and time.monotonic() < deadline:
        for job_id in list(waiting):
            response = await client.get("/api/status", params={"jobid": job_id})
            if response.status_code == 200 and response.json()["status"] != "ongoing":
                record.settled[job_id] = response.json()["status"]
                waiting.remove(job_id)
        if waiting:
            await asyncio.sleep(0.25)


# -- checks -----------------------------------------------------------------------------------


def check(record: Record, database_url: str) -> list[tuple[str, bool, str]]:
    """What the database says about what the clients were told."""
    from service.config import SQL_DIR
    from service.db import create_engine

    engine = create_engine(database_url, SQL_DIR)
    try:

        def rows(sql: str) -> list[dict[str, Any]]:
            return engine.read(lambda session: session.raw(sql))

        images = {
            r["job_id"]: r
            for r in rows(
                "SELECT job_id, COUNT(*) AS images, SUM(`status` = 'done') AS done FROM job_images "
                "GROUP BY job_id"
            )
        }
        results = {
            r["job_id"]: r
            for r in rows(
                "SELECT job_id, COUNT(*) AS results, COUNT(DISTINCT seq) AS seqs, "
                "SUM(`status` = 'done') AS done FROM image_results GROUP BY job_id"
            )
        }
        assignments = rows(
            "SELECT snapshot_id, username, is_match FROM qa_assignments WHERE is_match IS NOT NULL"
        )
        counts = rows(
            "SELECT id, votes_match, votes_mismatch FROM snapshots "
            "WHERE votes_match + votes_mismatch > 0"
        )
    finally:
        engine.close()

    checks: list[tuple[str, bool, str]] = [
        ("the load reached jobs and QA", bool(record.jobs) and bool(record.verdicts),
         f"{len(record.jobs)} jobs accepted, {len(record.verdicts)} verdicts answered 200"),
    ]  # fmt: skip
    unsettled = [job for job in record.jobs if record.settled.get(job) != "completed"]
    checks.append(
        (
            "every accepted job completed",
            not unsettled,
            f"{len(record.jobs)} accepted, {len(unsettled)} not completed",
        )
    )
    wrong = [
        job
        for job, count in record.jobs.items()
        if images.get(job, {}).get("images") != count
        or results.get(job, {}).get("results") != count
        or results.get(job, {}).get("seqs") != count
        or results.get(job, {}).get("done") != count
    ]
    total = sum(record.jobs.values())
    checks.append(
        (
            "one done result row per submitted image",
            not wrong,
            f"{total} images; {len(wrong)} job(s) differ",
        )
    )
    stored = {(r["snapshot_id"], r["username"]): bool(r["is_match"]) for r in assignments}
    checks.append(
        (
            "every 200 verdict stored once, as sent",
            stored == record.verdicts,
            f"{len(record.verdicts)} verdicts answered 200, {len(stored)} stored",
        )
    )
    tally: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for (snapshot_id, _), verdict in record.verdicts.items():
        tally[snapshot_id][0 if verdict else 1] += 1
    counted = {r["id"]: [r["votes_match"], r["votes_mismatch"]] for r in counts}
    checks.append(
        (
            "snapshot vote counts equal the 200 verdicts",
            counted == dict(tally),
            f"{sum(map(sum, counted.values()))} votes counted on {len(counted)} snapshots",
        )
    )
    unexpected = sum(sum(c.values()) for c in record.unexpected.values())
    checks.append(("no unexpected answers", unexpected == 0, f"{unexpected} unexpected"))
    return checks


# -- report -----------------------------------------------------------------------------------


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def report(record: Record, elapsed: float, checks: list[tuple[str, bool, str]]) -> dict:
    endpoints = sorted(record.latencies)
    print(
        f"{'endpoint':<38} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'unexpected':>10}"
    )
    print("-" * 96)
    summary: dict[str, Any] = {"seconds": round(elapsed, 1)}
    for endpoint in endpoints:
        values = record.latencies[endpoint]
        p50, p99 = _percentile(values, 0.50) * 1000, _percentile(values, 0.99) * 1000
        rate = len(values) / elapsed
        bad = sum(record.unexpected[endpoint].values())
        print(
            f"{endpoint:<38} {len(values):>8} {rate:>8.1f} {p50:>8.1f} {p99:>8.1f} "
            f"{max(values) * 1000:>8.1f} {bad:>10}"
        )
        summary[endpoint] = {
            "requests": len(values),
            "per_s": round(rate, 1),
            "p50_ms": round(p50, 1),
            "p99_ms": round(p99, 1),
            "unexpected": bad,
        }
    images = sum(record.jobs.values())
    summary.update(
        jobs=len(record.jobs),
        images=images,
        images_per_s=round(images / elapsed, 1),
        sessions=record.sessions,
        verdicts=len(record.verdicts),
        qa_queue_empty_after_s=(
            None if record.queue_empty_at is None else round(record.queue_empty_at, 1)
        ),
        checks_passed=all(ok for _, ok, _ in checks),
    )
    print()
    print(
        f"jobs accepted {len(record.jobs)} ({images} images, {images / elapsed:.1f} images/s "
        f"submitted); QA sessions {record.sessions}, verdicts {len(record.verdicts)}"
    )
    if record.queue_empty_at is not None:
        print(f"the QA queue had nothing left for some QA after {record.queue_empty_at:.1f} s")
    for endpoint, problems in record.unexpected.items():
        for what, count in problems.most_common(5):
            print(f"unexpected: {endpoint}: {what} (x{count})")
    for name, ok, detail in checks:
        print(f"[{'ok' if ok else 'FAIL'}] {name}: {detail}")
    print(json.dumps(summary))
    return summary


# -- main -------------------------------------------------------------------------------------


def run(options: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="loadtest-") as tmp:
        workdir = Path(tmp)
        _write_images(workdir / "images")
        service = _service(workdir, options)
        _log("migrating and seeding the demo stores and catalog (about 25 s)")
        service.migrate(seed=True)
        if options.extra_snapshots:
            _log(f"adding {options.extra_snapshots} synthetic snapshots for the QA queue")
            _add_snapshots(service.env, options.extra_snapshots)
        with (
            image_server_process(workdir / "images", workdir / "images.log") as images_base,
            service.running(ready="/readyz"),
        ):
            _log(
                f"{options.job_clients} job clients and {options.qa_clients} QA clients "
                f"for {options.seconds:g} s"
            )
            record, elapsed = asyncio.run(load(options, service.base, images_base))
        _log("server stopped; checking the database")
        checks = check(record, service.env["DATABASE_URL"])
        report(record, elapsed, checks)
        return 0 if all(ok for _, ok, _ in checks) else 1


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="make loadtest", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="load phase (default 60)")
    parser.add_argument(
        "--max-requests",
        type=int,
        default=200_000,
        help="stop the load phase after this many requests (default 200000)",
    )
    parser.add_argument("--job-clients", type=int, default=8, help="default 8")
    parser.add_argument("--qa-clients", type=int, default=8, help="default 8")
    parser.add_argument(
        "--delay", default="0.01-0.05", help="PROCESSING_DELAY for the server (default 0.01-0.05)"
    )
    parser.add_argument(
        "--session-size", type=int, default=20, help="QA_SESSION_SIZE for the server (default 20)"
    )
    parser.add_argument(
        "--drain-seconds",
        type=float,
        default=120.0,
        help="how long to wait for accepted jobs after the load (default 120)",
    )
    parser.add_argument(
        "--extra-snapshots",
        type=int,
        default=4000,
        help="synthetic snapshots added to the demo catalog's 1,000 so that the QA queue "
        "lasts the run (default 4000)",
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    options = parser.parse_args(argv)
    if not 0 < options.seconds <= 3600 or options.max_requests < 1:
        parser.error("--seconds must be in (0, 3600] and --max-requests at least 1")
    return options


def main(argv: list[str] | None = None) -> int:
    return run(parse(argv))


if __name__ == "__main__":
    sys.exit(main())

"""The load: job clients submit and poll, QA clients run sessions and send verdicts, all
sharing one request budget; `Record` keeps everything they saw for the proof and the report."""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

import httpx

IMAGES = 400  # distinct PNGs on the image server


def log(message: str) -> None:
    print(f"[loadtest] {message}", file=sys.stderr, flush=True)


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
    log(f"load over; waiting for {len(waiting)} job(s) to settle")
    while waiting and time.monotonic() < deadline:
        for job_id in list(waiting):
            response = await client.get("/api/status", params={"jobid": job_id})
            if response.status_code == 200 and response.json()["status"] != "ongoing":
                record.settled[job_id] = response.json()["status"]
                waiting.remove(job_id)
        if waiting:
            await asyncio.sleep(0.25)

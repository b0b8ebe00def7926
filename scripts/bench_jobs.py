"""`BENCH=jobs`: store-visit jobs end to end, through a real server, on loopback only.

Realistic photos (`scripts.bench_images`: 640x480 JPEG q85 of about 45 KB, and 4032x3024
phone photos of 2-3 MB) come from the keep-alive loopback image server
(`scripts.harness.image_server`) in its own process. Each scenario starts a fresh
`python -m service serve` (`scripts.harness.served`) (SQLite, local blobs; `WEB_CONCURRENCY` as
configured, so one process per core by default), submits over HTTP and polls `/api/status`
until the jobs settle. CPU time and peak memory are read from /proc for the service's whole
process tree (web processes and the embedding process).

- baseline: a bare asyncio client downloads the same 2,000 photos 64 at a time and reads
  their size, in this process: the image server's ceiling on this machine, measured now.
- one job of 2,000 photos, PROCESSING_DELAY=0: images/s and CPU ms per image until
  `completed`; then the CPU the embedding of those images costs once the job is done.
- 20 concurrent jobs of 100: images/s, status p50/p99 while they run, peak RSS.
- 200 phone photos: CPU ms per image.
- submit latency of a 10,000-image job (worker off, so only the request is measured).
- a job of 30 files whose headers are 19.5 MB of tiny JPEG comment segments (issue 18): status
  p50/p99 while it runs (the header walk's cap fails each at once; was 565 ms at p99).
- PROCESSING_DELAY=0.1-0.4 with JOB_CONCURRENCY=64 (GPU slots across the processes), 5,120
  photos: images/s as a fraction of the ideal 64 / 0.25 s = 256 images/s, and the share of
  GPU-slot time spent in the delays actually drawn.
"""

from __future__ import annotations

import asyncio
import io
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx

from scripts.bench import Metric
from scripts.bench_images import CACHE, VERSION, photos
from scripts.harness.image_server import image_server_process
from scripts.harness.served import Served
from scripts.processes import cpu_seconds, peak_rss_mb

SCENARIO_TIMEOUT = 300.0
STORES = b"AreaCode,StoreName,StoreID\r\n7100015,BENCH STORE,RP00001\r\n7000129,OTHER,RP00002"
SMALL, PHONE, DELAYED = 2000, 200, 5120  # DELAYED: 20 s at the ideal 256/s


def _log(message: str) -> None:
    print(f"[bench] jobs: {message}", file=sys.stderr, flush=True)


@contextmanager
def _service(workdir: Path, name: str, **variables: str) -> Iterator[Served]:
    """A migrated database with two stores, served by `python -m service serve`."""
    served = Served(workdir / name, database="bench.db", **variables)
    served.migrate(stores=STORES)
    with served.running():
        yield served


def _payload(urls: list[str], per_visit: int = 100) -> dict:
    visits = [
        {
            "store_id": "RP00001" if i % 2 == 0 else "RP00002",
            "image_url": urls[start : start + per_visit],
            "visit_time": "2026-11-21T10:00:00+05:30",
        }
        for i, start in enumerate(range(0, len(urls), per_visit))
    ]
    return {"count": len(visits), "visits": visits}


def _submit(client: httpx.Client, urls: list[str]) -> int:
    response = client.post("/api/submit/", json=_payload(urls))
    response.raise_for_status()
    return response.json()["job_id"]


def _status(
    client: httpx.Client,
    job_id: int,
    latencies: list[float] | None = None,
    allow_failed: bool = False,
) -> str:
    started = time.perf_counter()
    body = client.get("/api/status", params={"jobid": job_id}).json()
    if latencies is not None:
        latencies.append(time.perf_counter() - started)
    if body["status"] == "failed" and not allow_failed:
        raise RuntimeError(f"job {job_id} failed: {body['error'][:3]}")
    return body["status"]


def _run_job(service: Served, urls: list[str]) -> tuple[float, float]:
    """Submit one job and wait for `completed`: (seconds, CPU seconds of the service)."""
    with httpx.Client(base_url=service.base, timeout=60) as client:
        cpu, started = cpu_seconds(service.pid), time.perf_counter()
        job_id = _submit(client, urls)
        while _status(client, job_id) != "completed":
            if time.perf_counter() - started > SCENARIO_TIMEOUT:
                raise RuntimeError(f"job {job_id} still ongoing after {SCENARIO_TIMEOUT} s")
            time.sleep(0.02)
        return time.perf_counter() - started, cpu_seconds(service.pid) - cpu


def _wait_embedded(service: Served, count: int) -> tuple[float, float]:
    """Wait until `count` job images have an embedding; the CPU and wall seconds that took
    (the background catch-up starts on them as the job finishes)."""
    cpu, started = cpu_seconds(service.pid), time.perf_counter()
    with sqlite3.connect(f"file:{service.database}?mode=ro", uri=True) as connection:
        while True:
            (done,) = connection.execute("SELECT COUNT(*) FROM job_image_embeddings").fetchone()
            if done >= count:
                return cpu_seconds(service.pid) - cpu, time.perf_counter() - started
            if time.perf_counter() - started > SCENARIO_TIMEOUT:
                raise RuntimeError(f"only {done} of {count} job images embedded")
            time.sleep(0.2)


def _mean_delay_seconds(service: Served) -> float:
    with sqlite3.connect(f"file:{service.database}?mode=ro", uri=True) as connection:
        (mean,) = connection.execute("SELECT AVG(delay_ms) FROM image_results").fetchone()
    return mean / 1000


def _hostile_headers(directory: Path) -> Path:
    """A JPEG whose 19.5 MB header is tiny comment segments (issue 18): the walk caps it."""
    directory.mkdir(parents=True, exist_ok=True)
    out = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (64, 48), "navy").save(out, "JPEG")
    data = out.getvalue()
    (directory / "comments.jpg").write_bytes(data[:2] + b"\xff\xfe\x00\x02" * 4_875_000 + data[2:])
    return directory


def _concurrent_jobs(
    service: Served, jobs: list[list[str]], allow_failed: bool = False
) -> tuple[float, list[float]]:
    """Submit all jobs at once (one client each), then poll them all: (seconds, latencies)."""
    started = time.perf_counter()

    def submit(urls: list[str]) -> int:
        with httpx.Client(base_url=service.base, timeout=60) as client:
            return _submit(client, urls)

    with ThreadPoolExecutor(len(jobs)) as pool:
        job_ids = list(pool.map(submit, jobs))
    latencies: list[float] = []
    pending = set(job_ids)
    with httpx.Client(base_url=service.base, timeout=60) as client:
        while pending:
            for job_id in sorted(pending):
                if _status(client, job_id, latencies, allow_failed) != "ongoing":
                    pending.discard(job_id)
            if time.perf_counter() - started > SCENARIO_TIMEOUT:
                raise RuntimeError(f"jobs still ongoing after {SCENARIO_TIMEOUT} s")
            time.sleep(0.01)
    return time.perf_counter() - started, latencies


def _submit_latency(base: str, urls: list[str], repeats: int = 5) -> list[float]:
    timings = []
    with httpx.Client(base_url=base, timeout=60) as client:
        body = httpx.Request("POST", "/", json=_payload(urls)).content
        for _ in range(repeats):
            started = time.perf_counter()
            response = client.post(
                "/api/submit/", content=body, headers={"Content-Type": "application/json"}
            )
            timings.append(time.perf_counter() - started)
            response.raise_for_status()
    return timings


def _bare_fetch(urls: list[str], concurrency: int = 64) -> float:
    """Images/s of a bare client: download with aiohttp, read the size from the header."""
    import aiohttp
    from PIL import Image

    async def main() -> float:
        queue = list(reversed(urls))
        connector = aiohttp.TCPConnector(limit=concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:

            async def worker() -> None:
                while queue:
                    async with session.get(queue.pop()) as response:
                        data = await response.read()
                    Image.open(io.BytesIO(data)).size  # noqa: B018 - the header's size

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            return len(urls) / (time.perf_counter() - started)

    return asyncio.run(main())


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def run() -> list[Metric]:
    metrics: list[Metric] = []

    def metric(name: str, value: float, unit: str) -> None:
        metrics.append({"section": "jobs", "name": name, "value": value, "unit": unit})

    small = photos("small", DELAYED, (640, 480), noise=4)
    phone = photos("phone", PHONE, (4032, 3024), noise=5)
    metric("photo_640x480_mean_kb", statistics.mean(p.stat().st_size for p in small) / 1024, "KB")
    metric(
        "photo_4032x3024_mean_mb", statistics.mean(p.stat().st_size for p in phone) / 2**20, "MB"
    )

    nodelay = {"PROCESSING_DELAY": "0", "JOB_CONCURRENCY": "64"}

    with (
        tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp,
        image_server_process(CACHE) as images,
    ):
        small_urls = [f"{images}/{VERSION}-small/{p.name}" for p in small]
        phone_urls = [f"{images}/{VERSION}-phone/{p.name}" for p in phone]
        workdir = Path(tmp)
        _log("baseline: a bare client fetches 2,000 photos")
        baseline = _bare_fetch(small_urls[:SMALL])
        metric("baseline_bare_fetch_images_per_s", baseline, "images/s")

        with _service(workdir, "one", **nodelay) as service:
            _log("one job of 2,000 640x480 photos, PROCESSING_DELAY=0")
            seconds, cpu = _run_job(service, small_urls[:SMALL])
            metric("one_job_2000_images_per_s", SMALL / seconds, "images/s")
            metric("one_job_vs_bare_fetch", SMALL / seconds / baseline, "ratio")
            metric("one_job_cpu_ms_per_image", cpu / SMALL * 1000, "ms")
            if os.environ.get("EMBED_JOB_IMAGES", "all").strip().lower() != "none":
                _log("waiting for the job's images to be embedded")
                embed_cpu, embed_seconds = _wait_embedded(service, SMALL)
                metric("embedding_after_job_cpu_ms_per_image", embed_cpu / SMALL * 1000, "ms")
                metric("embedding_after_job_images_per_s", SMALL / embed_seconds, "images/s")

        with _service(workdir, "twenty", **nodelay) as service:
            _log("20 concurrent jobs of 100 photos, PROCESSING_DELAY=0")
            jobs = [small_urls[i * 100 : (i + 1) * 100] for i in range(20)]
            seconds, latencies = _concurrent_jobs(service, jobs)
            metric("twenty_jobs_of_100_images_per_s", SMALL / seconds, "images/s")
            metric("twenty_jobs_status_p50_ms", _percentile(latencies, 0.5) * 1000, "ms")
            metric("twenty_jobs_status_p99_ms", _percentile(latencies, 0.99) * 1000, "ms")
            metric("twenty_jobs_peak_rss_mb", peak_rss_mb(service.pid), "MB")

        with _service(workdir, "phone", **nodelay) as service:
            _log("200 phone photos (4032x3024), PROCESSING_DELAY=0")
            seconds, cpu = _run_job(service, phone_urls)
            metric("phone_photos_images_per_s", PHONE / seconds, "images/s")
            metric("phone_photos_cpu_ms_per_image", cpu / PHONE * 1000, "ms")

        hostile = _hostile_headers(Path(tmp) / "hostile")
        with (
            image_server_process(hostile) as hostile_images,
            _service(workdir, "hostile", **nodelay) as service,
        ):
            _log("a job of 30 files of 19.5 MB of JPEG comment segments")
            bad = [f"{hostile_images}/comments.jpg?n={n}" for n in range(30)]
            cpu = cpu_seconds(service.pid)
            seconds, latencies = _concurrent_jobs(service, [bad], allow_failed=True)
            metric("hostile_headers_status_p50_ms", _percentile(latencies, 0.5) * 1000, "ms")
            metric("hostile_headers_status_p99_ms", _percentile(latencies, 0.99) * 1000, "ms")
            metric("hostile_headers_seconds", seconds, "s")
            metric("hostile_headers_cpu_s", cpu_seconds(service.pid) - cpu, "s")

        with _service(workdir, "submit", WORKER_ENABLED="false") as service:
            _log("submit latency of a 10,000-image job")
            latencies = _submit_latency(
                service.base, [f"{images}/big/{n}.jpg" for n in range(10_000)]
            )
            metric("submit_10000_images_median_ms", statistics.median(latencies) * 1000, "ms")
            metric("submit_10000_images_max_ms", max(latencies) * 1000, "ms")

        with _service(workdir, "delay", JOB_CONCURRENCY="64") as service:  # default 0.1-0.4 s
            _log(f"{DELAYED} photos with the default delay and JOB_CONCURRENCY=64")
            seconds, _ = _run_job(service, small_urls)
            rate = DELAYED / seconds
            metric("default_delay_images_per_s", rate, "images/s")
            metric("default_delay_fraction_of_256_ideal", rate / 256, "ratio")
            # The same against the delays actually drawn (their mean wanders by about 1%).
            mean_delay = _mean_delay_seconds(service)
            metric("default_delay_mean_drawn_ms", mean_delay * 1000, "ms")
            metric("default_delay_gpu_slots_busy", rate * mean_delay / 64, "ratio")
    return metrics


if __name__ == "__main__":
    for m in run():
        print(f"{m['name']:<40} {m['value']:>10.3f} {m['unit']}")

"""`BENCH=jobs`: store-visit jobs end to end, through a real server, on loopback only.

A static file server (a child process) serves small distinct PNGs from a temp dir; the
service runs as `python -m service serve` on a temp SQLite database with the worker on.
Each scenario submits over HTTP and polls `/api/status` until the jobs settle:

- PROCESSING_DELAY=0: one job of 2,000 images, then 20 concurrent jobs of 100 (images/s)
- submit latency of a 10,000-image job (worker off, so only the request is measured)
- the default delay (0.1-0.4 s) with JOB_CONCURRENCY=64: images/s as a fraction of the
  ideal 64 / 0.25 s = 256 images/s
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
from PIL import Image

from scripts.bench import Metric
from scripts.processes import ROOT, child, free_port

SCENARIO_TIMEOUT = 180.0
STORES = b"AreaCode,StoreName,StoreID\r\n7100015,BENCH STORE,RP00001\r\n7000129,OTHER,RP00002"


def _log(message: str) -> None:
    print(f"[bench] jobs: {message}", file=sys.stderr, flush=True)


def _write_images(directory: Path, prefix: str, count: int) -> list[str]:
    """`count` distinct 64x48 PNGs (about 200 bytes each); returns their file names."""
    directory.mkdir(parents=True, exist_ok=True)
    names = []
    for n in range(count):
        out = io.BytesIO()
        Image.new("RGB", (64, 48), (n % 256, (n // 256) % 256, len(prefix) * 40)).save(out, "PNG")
        name = f"{prefix}{n}.png"
        (directory / name).write_bytes(out.getvalue())
        names.append(name)
    return names


@contextmanager
def _service(workdir: Path, name: str, **variables: str) -> Iterator[str]:
    """A migrated database with two stores, served by `python -m service serve`."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{workdir / name / 'bench.db'}",
        "STORAGE_URL": f"file://{workdir / name / 'blobs'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "LOG_LEVEL": "warning",
        "ALLOW_PRIVATE_IMAGE_URLS": "true",  # the image server is on loopback
        **variables,
    }
    stores = workdir / "stores.csv"
    stores.write_bytes(STORES)
    for command in (["migrate"], ["load-stores", str(stores)]):
        subprocess.run(
            [sys.executable, "-m", "service", *command], env=env, cwd=ROOT, check=True,
            capture_output=True,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    with child([sys.executable, "-m", "service", "serve"], env, f"{base}/healthz", "service"):
        yield base


def _payload(urls: list[str], per_visit: int = 50) -> dict:
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


def _wait_settled(client: httpx.Client, job_id: int, started: float) -> float:
    """Seconds from `started` until the job settles; raises if any image failed."""
    while True:
        body = client.get("/api/status", params={"jobid": job_id}).json()
        if body["status"] == "completed":
            return time.perf_counter() - started
        if body["status"] == "failed":
            raise RuntimeError(f"job {job_id} failed: {body['error'][:3]}")
        if time.perf_counter() - started > SCENARIO_TIMEOUT:
            raise RuntimeError(f"job {job_id} still ongoing after {SCENARIO_TIMEOUT} s")
        time.sleep(0.05)


def _one_job(base: str, urls: list[str]) -> float:
    with httpx.Client(base_url=base, timeout=60) as client:
        started = time.perf_counter()
        job_id = _submit(client, urls)
        return _wait_settled(client, job_id, started)


def _concurrent_jobs(base: str, jobs: list[list[str]]) -> tuple[float, list[float]]:
    """Submit all jobs at once (one client each), then one poller watches them all."""
    started = time.perf_counter()

    def submit(urls: list[str]) -> int:
        with httpx.Client(base_url=base, timeout=60) as client:
            return _submit(client, urls)

    with ThreadPoolExecutor(len(jobs)) as pool:
        job_ids = list(pool.map(submit, jobs))
    done: dict[int, float] = {}
    with httpx.Client(base_url=base, timeout=60) as client:
        while len(done) < len(job_ids):
            for job_id in job_ids:
                if job_id not in done:
                    body = client.get("/api/status", params={"jobid": job_id}).json()
                    if body["status"] == "failed":
                        raise RuntimeError(f"job {job_id} failed: {body['error'][:3]}")
                    if body["status"] == "completed":
                        done[job_id] = time.perf_counter() - started
            if time.perf_counter() - started > SCENARIO_TIMEOUT:
                raise RuntimeError(f"jobs still ongoing after {SCENARIO_TIMEOUT} s")
            time.sleep(0.05)
    return time.perf_counter() - started, list(done.values())


def _submit_latency(base: str, urls: list[str], repeats: int = 3) -> list[float]:
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


def run() -> list[Metric]:
    metrics: list[Metric] = []

    def metric(name: str, value: float, unit: str) -> None:
        metrics.append({"section": "jobs", "name": name, "value": value, "unit": unit})

    with tempfile.TemporaryDirectory(prefix="bench-jobs-") as tmp:
        workdir = Path(tmp)
        static = workdir / "static"
        _log("writing images")
        single = _write_images(static, "a", 2000)
        many = _write_images(static, "b", 2000)
        delayed = _write_images(static, "c", 1280)
        port = free_port()
        images = f"http://127.0.0.1:{port}"
        server = [
            sys.executable,
            "-m",
            "scripts.bench_jobs",
            "serve-images",
            str(port),
            str(static),
        ]
        with child(server, dict(os.environ), f"{images}/", "image server"):
            with _service(workdir, "nodelay", PROCESSING_DELAY="0", JOB_CONCURRENCY="64") as api:
                _log("one job of 2,000 images, PROCESSING_DELAY=0")
                seconds = _one_job(api, [f"{images}/{n}" for n in single])
                metric("one_job_2000_images_per_s", 2000 / seconds, "images/s")
                _log("20 concurrent jobs of 100 images, PROCESSING_DELAY=0")
                jobs = [[f"{images}/{n}" for n in many[i * 100 : (i + 1) * 100]] for i in range(20)]
                total, per_job = _concurrent_jobs(api, jobs)
                metric("twenty_jobs_of_100_images_per_s", 2000 / total, "images/s")
                metric("twenty_jobs_first_done_s", min(per_job), "s")
                metric("twenty_jobs_last_done_s", max(per_job), "s")

            with _service(workdir, "submit", WORKER_ENABLED="false") as api:
                _log("submit latency of a 10,000-image job")
                urls = [f"{images}/big/{n}.png" for n in range(10_000)]
                latencies = _submit_latency(api, urls)
                metric("submit_10000_images_median_ms", statistics.median(latencies) * 1000, "ms")
                metric("submit_10000_images_max_ms", max(latencies) * 1000, "ms")

            with _service(workdir, "delay", JOB_CONCURRENCY="64") as api:  # default 0.1-0.4 s
                _log("1,280 images with the default delay and JOB_CONCURRENCY=64")
                seconds = _one_job(api, [f"{images}/{n}" for n in delayed])
                rate = 1280 / seconds
                metric("default_delay_images_per_s", rate, "images/s")
                metric("default_delay_fraction_of_256_ideal", rate / 256, "ratio")
    return metrics


def serve_images(port: int, directory: str) -> None:
    """The loopback image server: stdlib, one thread per connection, a deep accept backlog
    (the stdlib default of 5 drops SYNs under 64 concurrent fetches: 1 s retransmits)."""
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer

    class Handler(SimpleHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 1024

    Server(("127.0.0.1", port), partial(Handler, directory=directory)).serve_forever()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve-images"]:
        serve_images(int(sys.argv[2]), sys.argv[3])
    else:
        for m in run():
            print(f"{m['name']:<40} {m['value']:>10.3f} {m['unit']}")

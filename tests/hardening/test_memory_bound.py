"""The memory attacks of issue 18 against a real server, with its peak memory read from /proc.

One server process (WEB_CONCURRENCY=1) and its embedding process, with small limits so the
test stays light: PIXEL_BUDGET = MAX_IMAGE_PIXELS = 12 million pixels, MAX_IMAGE_BYTES 4 MB,
JOB_CONCURRENCY 8. The attacks, all at once:

- six searches at the same time, each a 190-ish KB PNG of 4000x3000 pixels (item 3);
- a job of 8 URLs to a 37-byte GIF whose screen is 3400x3400 (item 2: each is stored, then
  embedded by the background catch-up);
- 16 downloads of 40 MB streamed without a length, and 8 bodies over MAX_IMAGE_BYTES with one
  (item 5).

The bounds are what the README promises, per process (peaks read as VmHWM): the web
process's memory at rest, plus PIXEL_BUDGET pixels at 8 bytes each, plus one MAX_IMAGE_BYTES
buffer per image in flight (JOB_CONCURRENCY and a quarter ahead), plus 96 MB of slack
(allocator pages, threads, the requests' bodies); the embedding process's 100 MB at rest plus
the same pixels and slack. Without the budget the six searches alone decode 6 x 12 million
pixels at once (over 500 MB); embedding a batch at full size held 8 x 3400 x 3400 pixels.
"""

from __future__ import annotations

import io
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
from PIL import Image

from scripts.processes import children
from service.imaging import BYTES_PER_PIXEL
from tests import hostile_images as hostile
from tests.hardening.test_sigterm import Serve
from tests.jobs.conftest import ImageServer, visit

PIXELS = 12_000_000
MAX_IMAGE_BYTES = 4 * 1024 * 1024
JOB_CONCURRENCY = 8
SLACK_MB = 96
EMBEDDING_AT_REST_MB = 100  # a spawned Python with numpy and Pillow imported: about 60


def _peak_mb(pid: int) -> float:
    """The process's own peak resident memory (VmHWM), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmHWM for {pid}")


def _is_embedding(pid: int) -> bool:
    return b"multiprocessing-fork" in Path(f"/proc/{pid}/cmdline").read_bytes()


def _big_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4000, 3000), (200, 40, 90)).save(out, "PNG", optimize=True)
    return out.getvalue()


def _search(base: str, image: bytes) -> int:
    files = {"image": ("big.png", image, "image/png")}
    return httpx.post(f"{base}/api/search", files=files, timeout=120).status_code


def _wait(what: str, check, timeout: float = 180) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.2)


def test_the_attacks_stay_under_the_stated_memory_bound(
    tmp_path: Path, image_server: ImageServer
) -> None:
    server = Serve(
        tmp_path,
        PIXEL_BUDGET=str(PIXELS),
        MAX_IMAGE_PIXELS=str(PIXELS),
        MAX_IMAGE_BYTES=str(MAX_IMAGE_BYTES),
        JOB_CONCURRENCY=str(JOB_CONCURRENCY),
        PROCESSING_DELAY="0",
        PIXEL_WAIT="120",
    )
    try:
        png = _big_png()
        assert _search(server.base, hostile.photo(64, 48)) == 200  # warm: every import done
        at_rest = _peak_mb(server.process.pid)
        gif = image_server.serve_bytes("screen.gif", hostile.gif_screen(3400, 3400))
        oversized = image_server.serve_bytes("big.jpg", b"\xff" * (MAX_IMAGE_BYTES + 1))
        streams = [image_server.url(f"/stream/40?n={n}") for n in range(16)]
        body = {
            "count": 3,
            "visits": [
                visit("RP00001", *[f"{gif}?n={n}" for n in range(8)]),
                visit("RP00002", *streams),
                visit("RP00003", *[f"{oversized}?n={n}" for n in range(8)]),
            ],
        }
        job = httpx.post(f"{server.base}/api/submit", json=body, timeout=30)
        assert job.status_code == 201, job.text
        job_id = job.json()["job_id"]
        with ThreadPoolExecutor(6) as pool:
            statuses = list(pool.map(lambda _: _search(server.base, png), range(6)))
        assert statuses == [200] * 6

        def settled() -> bool:
            status = httpx.get(f"{server.base}/api/status", params={"jobid": job_id}).json()
            return status["status"] != "ongoing"

        _wait("the job settles", settled)
        report = httpx.get(f"{server.base}/api/jobs/{job_id}", timeout=30).json()
        images = [image for v in report["visits"] for image in v["images"]]
        assert [i["status"] for i in images[:8]] == ["done"] * 8, [i["error"] for i in images[:8]]
        assert all("MAX_IMAGE_BYTES" in (i["error"] or "") for i in images[8:]), images[8:]

        def embedded() -> bool:
            with sqlite3.connect(server.db) as connection:
                (count,) = connection.execute(
                    "SELECT COUNT(*) FROM job_image_embeddings WHERE job_id = ?", (job_id,)
                ).fetchone()
            return count >= 8

        _wait("the GIFs are embedded by the catch-up", embedded)
        in_flight = JOB_CONCURRENCY + JOB_CONCURRENCY // 4
        decoded_mb = PIXELS * BYTES_PER_PIXEL / 2**20
        web_bound = at_rest + decoded_mb + in_flight * MAX_IMAGE_BYTES / 2**20 + SLACK_MB
        web_peak = _peak_mb(server.process.pid)
        [embedding] = [pid for pid in children(server.process.pid) if _is_embedding(pid)]
        embedding_peak = _peak_mb(embedding)
        embedding_bound = EMBEDDING_AT_REST_MB + decoded_mb + SLACK_MB
        print(f"web process: peak {web_peak:.0f} MB, at rest {at_rest:.0f}, bound {web_bound:.0f}")
        print(f"embedding process: peak {embedding_peak:.0f} MB, bound {embedding_bound:.0f}")
        assert web_peak < web_bound
        assert embedding_peak < embedding_bound
    finally:
        server.kill()

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
import sys
import tempfile
from pathlib import Path

from PIL import Image

from scripts.harness.image_server import image_server_process
from scripts.harness.served import Served
from scripts.loadtesting.clients import IMAGES, load
from scripts.loadtesting.clients import log as _log
from scripts.loadtesting.proof import check
from scripts.loadtesting.report import report

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

"""`make simulate`: simulated QAs work the seeded queue through the HTTP API.

Each simulated QA answers correctly with probability ACCURACY (default 0.9), independently.
Afterwards the run is scored against the demo catalog's known truth (`snapshot_truth`):

- consensus accuracy: resolved snapshots whose status matches the truth;
- human verdicts per resolved snapshot (the early-stopping majority: 2, or 3 after a split);
- the always-3-votes baseline on the same run: each snapshot settled 2-0 gets the third
  verdict it would have got (drawn from a QA of the same accuracy), and is scored as a
  majority of 3. Its statuses equal ours by construction (a 2-0 majority cannot be overturned),
  which the report checks; only the number of human verdicts differs.

    python -m scripts.simulate                     # fresh temp database, in-process app
    python -m scripts.simulate --url http://127.0.0.1:8001   # a running, seeded server;
                                                   # truth is read from DATABASE_URL
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from service.config import SQL_DIR, Settings, load_settings
from service.db import Engine, create_engine, migrate


class Client(Protocol):
    def post(self, url: str, **kwargs: Any) -> httpx.Response: ...
    def patch(self, url: str, **kwargs: Any) -> httpx.Response: ...


@dataclass
class Options:
    qas: int = 10
    accuracy: float = 0.9
    session_size: int = 50
    seed: int = 1
    url: str | None = None
    stall_seconds: float = 20.0
    products: int = 20  # the in-process demo catalog's size
    per_product: int = 50


@dataclass
class Report:
    snapshots: int
    resolved: int
    consensus_correct: int
    verdicts: int
    qa_correct: int
    baseline_correct: int
    baseline_same_status: int
    wrong_attributions: int
    wrong_caught: int
    seconds: float
    accuracy: float

    def lines(self) -> list[str]:
        p = self.accuracy
        majority3 = p**3 + 3 * p * p * (1 - p)
        per = self.verdicts / self.resolved if self.resolved else 0.0
        return [
            f"snapshots with known truth   {self.snapshots}",
            f"resolved                     {self.resolved}  ({self.seconds:.1f}s)",
            f"single QA accuracy           {self.qa_correct / max(self.verdicts, 1):.3f}"
            f"  (configured {p:.2f})",
            "",
            f"{'':28} {'early stop':>12} {'always 3':>12}",
            f"{'consensus accuracy':28} {self.consensus_correct / max(self.resolved, 1):>12.3f}"
            f" {self.baseline_correct / max(self.resolved, 1):>12.3f}",
            f"{'human verdicts / snapshot':28} {per:>12.3f} {3.0:>12.3f}",
            f"{'human verdicts in all':28} {self.verdicts:>12} {3 * self.resolved:>12}",
            "",
            f"verdicts saved               {1 - per / 3:.1%}",
            f"same status as always-3      {self.baseline_same_status}/{self.resolved}",
            f"expected majority-of-3 acc.  {majority3:.3f}",
            f"misattributed caught         {self.wrong_caught}/{self.wrong_attributions}"
            " (ended 'mismatch')",
        ]


# -- the simulated QAs --------------------------------------------------------------------------


class Shared:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.last_progress = time.monotonic()
        self.errors: list[str] = []

    def progress(self) -> None:
        with self.lock:
            self.last_progress = time.monotonic()


def _pending(engine: Engine) -> int:
    rows = engine.read(lambda s: s.fetch_all("qa_queue_state"))
    return sum(int(r["snapshots"]) for r in rows if r["status"] == "pending")


def _qa(client: Client, name: str, truth: dict[int, bool], options: Options, engine: Engine,
        shared: Shared, rng: random.Random) -> None:  # fmt: skip
    headers = {"username": name}
    try:
        while time.monotonic() - shared.last_progress < options.stall_seconds:
            response = client.post("/qa/session", headers=headers)
            if response.status_code == 400:
                if response.json().get("error") == "Session already exists":
                    raise RuntimeError(f"{name} has an open session from an earlier run")
                if _pending(engine) == 0:
                    return
                time.sleep(0.02)  # what is left is held by others; a split may free a slot
                continue
            response.raise_for_status()
            session = response.json()
            for item in session["snapshots"]:
                snapshot_id = item["snapshot_id"]
                correct = truth.get(snapshot_id, True)
                answer = correct if rng.random() < options.accuracy else not correct
                result = client.patch(
                    f"/qa/session/{session['session_id']}/snapshot/{snapshot_id}",
                    json={"is_match": answer}, headers=headers,
                )  # fmt: skip
                result.raise_for_status()
                shared.progress()
    except Exception as exc:  # reported once all threads are done
        shared.errors.append(f"{name}: {exc!r}")


def _truth(engine: Engine) -> dict[int, bool]:
    rows = engine.read(lambda s: s.fetch_all("catalog_truth"))
    return {r["snapshot_id"]: r["product_id"] == r["true_product_id"] for r in rows}


def work_queue(client: Client, engine: Engine, options: Options) -> float:
    truth = _truth(engine)
    if not truth:
        raise SystemExit("no snapshot has a known truth: seed the demo catalog first")
    shared = Shared()
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=_qa,
            args=(
                client,
                f"sim-qa-{options.seed}-{i}",
                truth,
                options,
                engine,
                shared,
                random.Random(f"{options.seed}/{i}"),
            ),
        )  # fmt: skip
        for i in range(options.qas)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if shared.errors:
        raise SystemExit("simulation failed:\n" + "\n".join(shared.errors))
    return time.monotonic() - started


# -- scoring ------------------------------------------------------------------------------------


def score(engine: Engine, options: Options, seconds: float) -> Report:
    from service.qa import voting

    truth_rows = engine.read(lambda s: s.fetch_all("catalog_truth"))
    verdict_rows = engine.read(lambda s: s.raw(
        "SELECT snapshot_id, is_match FROM qa_assignments WHERE is_match IS NOT NULL"))  # fmt: skip
    by_snapshot: dict[int, list[bool]] = {}
    for row in verdict_rows:
        by_snapshot.setdefault(row["snapshot_id"], []).append(bool(row["is_match"]))
    rng = random.Random(f"baseline/{options.seed}")
    resolved = correct = verdicts = qa_correct = base_correct = same = 0
    wrong = caught = 0
    for row in truth_rows:
        is_match = row["product_id"] == row["true_product_id"]
        wrong += not is_match
        if row["status"] == voting.PENDING:
            continue
        resolved += 1
        ours = by_snapshot.get(row["snapshot_id"], [])
        verdicts += len(ours)
        qa_correct += sum(v == is_match for v in ours)
        correct += (row["status"] == voting.MATCH) == is_match
        caught += (not is_match) and row["status"] == voting.MISMATCH
        three = list(ours)
        while len(three) < 3:  # the verdict early stopping saved, from a QA just as accurate
            three.append(is_match if rng.random() < options.accuracy else not is_match)
        baseline = voting.status(sum(three), 3 - sum(three), 3)
        base_correct += (baseline == voting.MATCH) == is_match
        same += baseline == row["status"]
    return Report(
        snapshots=len(truth_rows), resolved=resolved, consensus_correct=correct,
        verdicts=verdicts, qa_correct=qa_correct, baseline_correct=base_correct,
        baseline_same_status=same, wrong_attributions=wrong, wrong_caught=caught,
        seconds=seconds, accuracy=options.accuracy,
    )  # fmt: skip


# -- where the app runs -----------------------------------------------------------------------


@contextmanager
def in_process(options: Options) -> Iterator[tuple[Client, Engine]]:
    """A fresh temp database with the demo catalog, served in-process."""
    import msgspec
    from litestar.testing import TestClient

    from service.app import create_app
    from service.catalog.seed import seed_catalog
    from service.services import open_services

    with ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="simulate-")))
        settings = msgspec.structs.replace(
            load_settings(environ={}, dotenv=None),
            database_url=f"sqlite:///{root / 'simulate.db'}",
            storage_url=f"file://{root / 'blobs'}",
            worker_enabled=False, log_level="warning", qa_session_size=options.session_size,
        )  # fmt: skip
        engine = create_engine(settings.database_url, SQL_DIR)
        stack.callback(engine.close)
        migrate(engine, SQL_DIR)

        async def seed() -> str:
            async with open_services(settings) as services:
                return await seed_catalog(services, False, options.products, options.per_product)

        print(f"seeded: {asyncio.run(seed())}", file=sys.stderr)
        app = create_app(settings, configure_logs=False)
        client = stack.enter_context(TestClient(app=app, raise_server_exceptions=True))
        yield client, engine


@contextmanager
def remote(options: Options, settings: Settings) -> Iterator[tuple[Client, Engine]]:
    engine = create_engine(settings.database_url, SQL_DIR)
    try:
        with httpx.Client(base_url=options.url or "", timeout=30) as client:
            yield client, engine
    finally:
        engine.close()


def run(options: Options) -> Report:
    if options.url:
        context = remote(options, load_settings())
    else:
        from service.logs import configure_logging

        configure_logging("warning", "console")
        context = in_process(options)
    with context as (client, engine):
        seconds = work_queue(client, engine, options)
        return score(engine, options, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.simulate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--qas", type=int, default=10, help="simulated QAs (default 10)")
    parser.add_argument("--accuracy", type=float, default=0.9, help="each QA's (default 0.9)")
    parser.add_argument("--session-size", type=int, default=50,
                        help="QA_SESSION_SIZE in-process (default 50)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--url", help="a running server instead of an in-process app")
    parser.add_argument("--products", type=int, default=20, help="demo products (default 20)")
    parser.add_argument(
        "--per-product", type=int, default=50, help="demo snapshots per product (default 50)"
    )
    args = parser.parse_args(argv)
    if not 0.0 <= args.accuracy <= 1.0 or args.qas < 1:
        parser.error("--accuracy must be in [0, 1] and --qas at least 1")
    options = Options(qas=args.qas, accuracy=args.accuracy, session_size=args.session_size,
                      seed=args.seed, url=args.url, products=args.products,
                      per_product=args.per_product)  # fmt: skip
    report = run(options)
    print("\n".join(report.lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())

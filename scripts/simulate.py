"""`make simulate`: both QA consensus rules on the same stream of verdicts, scored on the truth.

Catalogs: the generated demo catalog (1,000 snapshots, 5% attributed to the wrong product),
and two of real photos, each imported into an empty database with 10% of the snapshots put in
another product's folder: the shelf photos of ../shared/data/trax-sample (`trax`: 2 products,
100 snapshots) and the look-alike packs of ../shared/data/grocery-train (`grocery`: 21
products, 601 snapshots). `trax after demo` imports trax-sample into the database the demo's
assisted run left, so its history carries over. Each is seeded once; every run works its own
copy. Snapshots are embedded and scored with the configured EMBEDDER (the environment or
.env, as the service reads it; `--embedder` overrides it).

Crowds: ten reviewers right 90% of the time (`p0.9`), and a mixed crowd of seven (`mixed`:
two each at 0.95, 0.9 and 0.8, and one random clicker at 0.5). A reviewer's verdict on a
snapshot is fixed by (seed, reviewer, snapshot), so the two rules hear the same answer
whenever they ask the same reviewer about the same snapshot.

Each run lets the reviewers clear the queue through the QA API in parallel threads, under
QA_CONSENSUS=majority or assisted, then reports human verdicts per snapshot, accuracy
against the truth and mis-attributed snapshots caught. `assisted, model inverted` runs the
assisted rule with every suspicion score negated: a model that trusts exactly the snapshots
it should doubt. The real-photo catalogs are run `--repeats` times (other mis-attributions,
other verdicts: draws SEED, SEED + 1, ...) and summed; beside each sum, the spread of the
single runs (standard deviation) and, for the assisted rule, its accuracy minus the majority
rule's on the same draws with the standard error of that difference: the run-to-run noise.

    python -m scripts.simulate                    # every catalog, crowd and rule
    python -m scripts.simulate --catalog trax --crowd mixed
    EMBEDDER=pack-features python -m scripts.simulate --catalog grocery
    python -m scripts.simulate --url http://127.0.0.1:8001 --qas 10 --accuracy 0.9
        # one run against a running, seeded server (whatever rule it runs); the truth is
        # read from DATABASE_URL
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import math
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx
import msgspec

from service.config import ROOT, SQL_DIR, Settings, load_settings
from service.db import Engine, create_engine, migrate

TRAX = ROOT.parent / "shared" / "data" / "trax-sample"
GROCERY = ROOT.parent / "shared" / "data" / "grocery-train"
PHOTOS = {"trax": TRAX, "grocery": GROCERY}  # real photos, imported with a share flipped
WRONG_SHARE = 0.10


class Client(Protocol):
    def post(self, url: str, **kwargs: Any) -> httpx.Response: ...
    def patch(self, url: str, **kwargs: Any) -> httpx.Response: ...


@dataclass(frozen=True)
class Crowd:
    name: str
    accuracies: tuple[float, ...]  # one per reviewer


CROWDS = {
    "p0.9": Crowd("p0.9", (0.9,) * 10),
    "mixed": Crowd("mixed", (0.95, 0.95, 0.9, 0.9, 0.8, 0.8, 0.5)),
}


@dataclass
class Options:
    session_size: int = 20
    seed: int = 1  # names the reviewers (sim-qa-SEED-N)
    draws: int = 1  # seeds the verdicts and trax-sample's mis-attributions
    repeats: int = 5  # runs on real photos (draws seed, seed + 1, ...), summed
    stall_seconds: float = 20.0
    products: int = 20  # the demo catalog's size
    per_product: int = 50
    url: str | None = None
    embedder: str = "default"  # EMBEDDER for the runs
    model_dir: str = "var/models"


@dataclass(frozen=True)
class Scenario:
    catalog: str  # "demo", "trax", "grocery" or "trax after demo"
    crowd: Crowd
    consensus: str  # "majority" or "assisted"
    inverted: bool = False  # every suspicion score negated
    runs: int = 1  # summed over this many draws

    @property
    def rule(self) -> str:
        return f"{self.consensus}, model inverted" if self.inverted else self.consensus


@dataclass
class Result:
    scenario: Scenario
    snapshots: int
    resolved: int
    verdicts: int
    correct: int
    wrong_attributions: int
    caught: int
    settled_assisted: int
    seconds: float
    singles: tuple[tuple[int, float, float], ...] = ()  # (draw, per_snapshot, accuracy) each

    def __add__(self, other: Result) -> Result:
        return Result(
            dataclasses.replace(self.scenario, runs=self.scenario.runs + other.scenario.runs),
            self.snapshots + other.snapshots, self.resolved + other.resolved,
            self.verdicts + other.verdicts, self.correct + other.correct,
            self.wrong_attributions + other.wrong_attributions, self.caught + other.caught,
            self.settled_assisted + other.settled_assisted, self.seconds + other.seconds,
            self.singles + other.singles,
        )  # fmt: skip

    @property
    def per_snapshot(self) -> float:
        return self.verdicts / self.resolved if self.resolved else 0.0

    @property
    def accuracy(self) -> float:
        return self.correct / self.resolved if self.resolved else 0.0


# -- the simulated reviewers --------------------------------------------------------------------


def verdict(seed: int, reviewer: int, snapshot_id: int, truth: bool, accuracy: float) -> bool:
    """The reviewer's fixed answer on this snapshot: right with probability `accuracy`."""
    draw = random.Random(f"{seed}/{reviewer}/{snapshot_id}").random()  # seeded by SHA-512
    return truth if draw < accuracy else not truth


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


def _reviewer(client: Client, index: int, accuracy: float, truth: dict[int, bool],
              options: Options, engine: Engine, shared: Shared) -> None:  # fmt: skip
    headers = {"username": f"sim-qa-{options.seed}-{index}"}
    try:
        while time.monotonic() - shared.last_progress < options.stall_seconds:
            response = client.post("/qa/session", headers=headers)
            if response.status_code == 400:
                if response.json().get("error") == "Session already exists":
                    raise RuntimeError(f"{headers['username']} has an open session already")
                if _pending(engine) == 0:
                    return
                time.sleep(0.02)  # what is left is held by others; a verdict may free a slot
                continue
            response.raise_for_status()
            session = response.json()
            for item in session["snapshots"]:
                snapshot_id = item["snapshot_id"]
                answer = verdict(options.draws, index, snapshot_id,
                                 truth.get(snapshot_id, True), accuracy)  # fmt: skip
                result = client.patch(
                    f"/qa/session/{session['session_id']}/snapshot/{snapshot_id}",
                    json={"is_match": answer}, headers=headers,
                )  # fmt: skip
                result.raise_for_status()
                shared.progress()
    except Exception as exc:  # reported once all threads are done
        shared.errors.append(f"{headers['username']}: {exc!r}")


def _truth(engine: Engine) -> dict[int, bool]:
    rows = engine.read(lambda s: s.fetch_all("catalog_truth"))
    return {r["snapshot_id"]: r["product_id"] == r["true_product_id"] for r in rows}


def work_queue(client: Client, engine: Engine, crowd: Crowd, options: Options) -> float:
    truth = _truth(engine)
    if not truth:
        raise SystemExit("no snapshot has a known truth: seed the demo catalog first")
    shared = Shared()
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=_reviewer, args=(client, i, accuracy, truth, options, engine, shared)
        )  # fmt: skip
        for i, accuracy in enumerate(crowd.accuracies)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if shared.errors:
        raise SystemExit("simulation failed:\n" + "\n".join(shared.errors))
    return time.monotonic() - started


def score(engine: Engine, scenario: Scenario, seconds: float, after_id: int = 0) -> Result:
    """The run's figures over the snapshots with a known truth and an id above `after_id`."""
    from service.qa import voting

    truth_rows = [r for r in engine.read(lambda s: s.fetch_all("catalog_truth"))
                  if r["snapshot_id"] > after_id]  # fmt: skip
    settled = engine.read(lambda s: s.raw(
        "SELECT id FROM snapshots WHERE settled_by = 'assisted'"))  # fmt: skip
    assisted = {row["id"] for row in settled}
    resolved = verdicts = correct = wrong = caught = by_model = 0
    for row in truth_rows:
        is_match = row["product_id"] == row["true_product_id"]
        wrong += not is_match
        if row["status"] == voting.PENDING:
            continue
        resolved += 1
        verdicts += row["votes_match"] + row["votes_mismatch"]
        correct += (row["status"] == voting.MATCH) == is_match
        caught += (not is_match) and row["status"] == voting.MISMATCH
        by_model += row["snapshot_id"] in assisted
    return Result(scenario, len(truth_rows), resolved, verdicts, correct, wrong, caught,
                  by_model, seconds)  # fmt: skip


# -- catalogs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    """A seeded database to copy for each run, its blobs, and the snapshots to score."""

    database: Path
    blobs: Path
    after_id: int = 0  # snapshots up to this id are history, not scored


def _settings(database: Path, blobs: Path, options: Options, **changes: Any) -> Settings:
    return msgspec.structs.replace(
        load_settings(environ={}, dotenv=None),
        database_url=f"sqlite:///{database}", storage_url=f"file://{blobs}",
        worker_enabled=False, log_level="warning", embedder=options.embedder,
        model_dir=options.model_dir, **changes,
    )  # fmt: skip


def _misattributed_copy(catalog: str, target: Path, seed: int) -> dict[str, str]:
    """Copy a catalog of real photos with a share of snapshots in another product's folder;
    returns {"folder/file": true upc} for every snapshot."""
    source = PHOTOS[catalog]
    upcs = sorted(p.name for p in (source / "snapshots").iterdir() if p.is_dir())
    if not (target / "products").exists():
        shutil.copytree(source / "products", target / "products")
        if (source / "products.csv").exists():
            shutil.copy(source / "products.csv", target / "products.csv")
    files = [(upc, f) for upc in upcs for f in sorted((source / "snapshots" / upc).glob("*.jpg"))]
    rng = random.Random(f"{catalog}/{seed}")
    moved = set(rng.sample(range(len(files)), round(WRONG_SHARE * len(files))))
    truth = {}
    for number, (upc, path) in enumerate(files):
        folder = upc
        if number in moved:
            folder = rng.choice([u for u in upcs if u != upc])
        (target / "snapshots" / folder).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, target / "snapshots" / folder / path.name)
        truth[f"{folder}/{path.name}"] = upc
    return truth


async def _import_photos(services: Any, catalog: str, options: Options, work: Path,
                         after_id: int) -> str:  # fmt: skip
    from service.catalog import store
    from service.catalog.importer import import_catalog

    folder = work / f"{catalog}-{options.draws}"
    truth = _misattributed_copy(catalog, folder, options.draws)
    report = await import_catalog(services, folder)
    rows = await services.db.fetch_all("qa_export_page", {"after_id": after_id, "limit": 10**6})
    for row in rows:
        snapshot = await services.db.fetch_one(
            "catalog_snapshot_by_id", {"snapshot_id": row["snapshot_id"]}
        )
        true_id = await store.product_id(services, truth[snapshot["source"]])
        await services.db.execute(
            "catalog_insert_truth", {"snapshot_id": row["snapshot_id"], "true_product_id": true_id}
        )
    return report.summary()


async def _refresh_scores(services: Any) -> None:
    """Embed what the seed stored, fit the projection and score every snapshot on the whole
    collection, as the background catch-up does after a bulk load."""
    import io

    from service.clock import utcnow
    from service.similarity.background.reembed import reembed
    from service.similarity.ranking.suspects import BATCH, rescore

    started = utcnow()
    await reembed(services, out=io.StringIO())
    while await rescore(services, BATCH, stale_after=utcnow() - started):
        pass


async def _seed(settings: Settings, catalog: str, options: Options, work: Path,
                after_id: int) -> str:  # fmt: skip
    from service.catalog.seed import seed_catalog
    from service.services import open_services

    async with open_services(settings) as services:
        if catalog == "demo":
            summary = await seed_catalog(services, False, options.products, options.per_product)
        else:
            summary = await _import_photos(services, catalog, options, work, after_id)
        await _refresh_scores(services)
    return summary


def _last_id(database: Path) -> int:
    with sqlite3.connect(database) as connection:
        return int(connection.execute("SELECT COALESCE(MAX(id), 0) FROM snapshots").fetchone()[0])


def prepare(catalog: str, options: Options, work: Path, history: Path | None = None) -> Template:
    """Seed `catalog` once into work/: into a fresh database, or into a copy of `history` (a
    database after a run, whose snapshots are then history and not scored)."""
    database = work / f"{catalog.replace(' ', '-')}-{options.draws}.db"
    blobs = work / "blobs"
    database.unlink(missing_ok=True)
    if history is not None:
        _copy_database(history, database)
    after_id = _last_id(database) if history is not None else 0
    settings = _settings(database, blobs, options)
    engine = create_engine(settings.database_url, SQL_DIR)
    try:
        migrate(engine, SQL_DIR)
    finally:
        engine.close()
    summary = asyncio.run(_seed(settings, catalog.split()[0], options, work, after_id))
    print(f"{catalog} ({options.draws}): {summary}", file=sys.stderr)
    return Template(database, blobs, after_id)


def _copy_database(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)


def run_scenario(scenario: Scenario, template: Template, options: Options,
                 work: Path) -> tuple[Result, Path]:  # fmt: skip
    """One run on a copy of the template; returns its figures and its database."""
    from litestar.testing import TestClient

    from service.app import create_app

    name = f"run-{scenario.catalog}-{scenario.crowd.name}-{scenario.rule}.db"
    database = work / "".join(c if c.isalnum() or c in ".-" else "-" for c in name)
    _copy_database(template.database, database)
    settings = _settings(database, template.blobs, options, qa_session_size=options.session_size,
                         qa_consensus=scenario.consensus)  # fmt: skip
    engine = create_engine(settings.database_url, SQL_DIR)
    try:
        if scenario.inverted:
            engine.write(lambda s: s.raw("UPDATE snapshot_suspicion SET suspicion = -suspicion"))
        app = create_app(settings, configure_logs=False)
        with TestClient(app=app, raise_server_exceptions=True) as client:
            seconds = work_queue(client, engine, scenario.crowd, options)
        result = score(engine, scenario, seconds, template.after_id)
        single = (options.draws, result.per_snapshot, result.accuracy)
        return dataclasses.replace(result, singles=(single,)), database
    finally:
        engine.close()


# -- reports ----------------------------------------------------------------------------------


HEADER = (f"{'catalog':16} {'crowd':6} {'rule':25} {'verdicts/snapshot':>17} {'accuracy':>9} "
          f"{'caught':>8} {'by model':>9} {'time':>6}")  # fmt: skip


def line(result: Result) -> str:
    s = result.scenario
    caught = f"{result.caught}/{result.wrong_attributions}"
    share = result.settled_assisted / max(result.resolved, 1)
    return (f"{s.catalog:16} {s.crowd.name:6} {s.rule:25} {result.per_snapshot:>17.3f} "
            f"{result.accuracy:>9.3f} {caught:>8} {share:>9.0%} "
            f"{result.seconds:>5.1f}s")  # fmt: skip


def spread(result: Result) -> tuple[float, float]:
    """The standard deviation of the single runs' verdicts per snapshot and accuracy (0 for
    one run): how far one run of this size may land from another."""
    if len(result.singles) < 2:
        return 0.0, 0.0
    return (statistics.stdev(v for _, v, _ in result.singles),
            statistics.stdev(a for _, _, a in result.singles))  # fmt: skip


def against(result: Result, majority: Result) -> tuple[float, float]:
    """Accuracy minus the majority rule's on the same draws (the same reviewers' answers), and
    the standard error of that difference from the single runs' paired differences."""
    theirs = {draw: accuracy for draw, _, accuracy in majority.singles}
    paired = [accuracy - theirs[draw] for draw, _, accuracy in result.singles if draw in theirs]
    error = statistics.stdev(paired) / math.sqrt(len(paired)) if len(paired) > 1 else 0.0
    return result.accuracy - majority.accuracy, error


def noise_line(result: Result, majority: Result | None) -> str:
    """The second line of a summed scenario: its single runs' spread, and for the assisted
    rule its accuracy against the majority rule's."""
    sd_verdicts, sd_accuracy = spread(result)
    text = f"{'':16} {'':6} {'  sd of single runs':25} {sd_verdicts:>17.3f} {sd_accuracy:>9.3f}"
    if majority is not None and result.scenario.consensus != "majority":
        difference, error = against(result, majority)
        text += f"   accuracy - majority's: {difference:+.3f} +/- {error:.3f}"
    return text


WARM_TRAX = "trax after demo"
ALL = ["demo", "trax", "grocery", WARM_TRAX]


@dataclass
class Suite:
    catalogs: list[str] = field(default_factory=lambda: list(ALL))
    crowds: list[str] = field(default_factory=lambda: ["p0.9", "mixed"])
    inverted: bool = True  # also the assisted rule with the model inverted, on crowd p0.9

    def scenarios(self, catalog: str, crowd: str) -> Iterator[Scenario]:
        for consensus in ("majority", "assisted"):
            yield Scenario(catalog, CROWDS[crowd], consensus)
        if self.inverted and crowd == "p0.9" and catalog != WARM_TRAX:
            yield Scenario(catalog, CROWDS[crowd], "assisted", inverted=True)


def _runs(suite: Suite, catalog: str, crowd: str, template: Template, options: Options,
          work: Path) -> Iterator[tuple[Result, Path]]:  # fmt: skip
    for scenario in suite.scenarios(catalog, crowd):
        yield run_scenario(scenario, template, options, work)


def run_suite(suite: Suite, options: Options, echo: bool = True) -> list[Result]:
    """Every scenario of the suite; those on real photos `options.repeats` times over, summed.

    `trax after demo` imports trax-sample into the database the demo's assisted run left, so
    its history (the prior's calibration, reviewers' reliability) carries over.
    """
    from service.logs import configure_logging

    configure_logging("warning", "console")
    results: list[Result] = []

    def report(result: Result, majority: Result | None = None) -> None:
        results.append(result)
        if echo:
            print(line(result), flush=True)
            if result.scenario.runs > 1:
                print(noise_line(result, majority), flush=True)

    with tempfile.TemporaryDirectory(prefix="simulate-") as tmp:
        work = Path(tmp)
        if echo:
            print(f"EMBEDDER={options.embedder}, QA_SESSION_SIZE={options.session_size}, "
                  f"QA_VOTES=3, QA_CONFIDENCE=0.99, seed {options.seed}; real photos summed "
                  f"over {options.repeats} runs\n\n{HEADER}", flush=True)  # fmt: skip
        after_demo: dict[str, Path] = {}  # crowd -> the database the demo's assisted run left
        if "demo" in suite.catalogs:
            template = prepare("demo", options, work)
            for crowd in suite.crowds:
                for result, database in _runs(suite, "demo", crowd, template, options, work):
                    report(result)
                    if result.scenario.rule == "assisted":
                        after_demo[crowd] = database
        for catalog in ("trax", "grocery", WARM_TRAX):
            if catalog not in suite.catalogs:
                continue
            for crowd in suite.crowds:
                if catalog == WARM_TRAX and crowd not in after_demo:
                    raise SystemExit(f"{WARM_TRAX!r} needs the demo catalog's runs first")
                summed: dict[str, Result] = {}
                for draws in range(options.seed, options.seed + options.repeats):
                    this = dataclasses.replace(options, draws=draws)
                    history = after_demo.get(crowd) if catalog == WARM_TRAX else None
                    template = prepare(catalog, this, work, history)
                    for result, _ in _runs(suite, catalog, crowd, template, this, work):
                        rule = result.scenario.rule
                        summed[rule] = summed[rule] + result if rule in summed else result
                for result in summed.values():
                    report(result, summed.get("majority"))
    return results


# -- one run against a running server -----------------------------------------------------------


@contextmanager
def remote(url: str, settings: Settings) -> Iterator[tuple[Client, Engine]]:
    engine = create_engine(settings.database_url, SQL_DIR)
    with ExitStack() as stack:
        stack.callback(engine.close)
        client = stack.enter_context(httpx.Client(base_url=url, timeout=30))
        yield client, engine


def run_remote(url: str, crowd: Crowd, options: Options) -> Result:
    settings = load_settings()
    with remote(url, settings) as (client, engine):
        seconds = work_queue(client, engine, crowd, options)
        scenario = Scenario("server", crowd, settings.qa_consensus)
        return score(engine, scenario, seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scripts.simulate",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--catalog", choices=["demo", "trax", "grocery", "all"], default="all",
                        help="demo, trax, grocery (both from empty), or all (these three and "
                             "trax after the demo)")  # fmt: skip
    parser.add_argument("--crowd", choices=[*CROWDS, "both"], default="both")
    parser.add_argument("--session-size", type=int, default=20,
                        help="QA_SESSION_SIZE (default 20)")  # fmt: skip
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="runs summed on real photos: seeds SEED, SEED+1, ... (default 5)",
    )
    parser.add_argument("--embedder", help="EMBEDDER for the runs (default: as configured)")
    parser.add_argument("--url", help="one run against a running server instead")
    parser.add_argument("--qas", type=int, default=10, help="with --url: reviewers (default 10)")
    parser.add_argument("--accuracy", type=float, default=0.9,
                        help="with --url: each reviewer's (default 0.9)")  # fmt: skip
    args = parser.parse_args(argv)
    if not 0.0 <= args.accuracy <= 1.0 or args.qas < 1 or args.session_size < 1:
        parser.error("--accuracy must be in [0, 1], --qas and --session-size at least 1")
    configured = load_settings()
    options = Options(session_size=args.session_size, seed=args.seed, draws=args.seed,
                      repeats=max(args.repeats, 1), url=args.url,
                      embedder=args.embedder or configured.embedder,
                      model_dir=configured.model_dir)  # fmt: skip
    if args.url:
        crowd = Crowd(f"p{args.accuracy:g}", (args.accuracy,) * args.qas)
        print(HEADER)
        print(line(run_remote(args.url, crowd, options)))
        return 0
    catalogs = ALL if args.catalog == "all" else [args.catalog]
    for name, folder in PHOTOS.items():
        if any(c.split()[0] == name for c in catalogs) and not folder.is_dir():
            raise SystemExit(f"{folder} is missing: run with --catalog demo")
    crowds = list(CROWDS) if args.crowd == "both" else [args.crowd]
    run_suite(Suite(catalogs, crowds), options)
    return 0


if __name__ == "__main__":
    sys.exit(main())

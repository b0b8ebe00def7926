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
import dataclasses
import sys
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from scripts.simulation.catalogs import Template, prepare, run_scenario
from scripts.simulation.reports import HEADER, line, noise_line
from scripts.simulation.reviewers import score, work_queue
from scripts.simulation.scenarios import (
    CROWDS,
    GROCERY,
    PHOTOS,
    TRAX,
    Client,
    Crowd,
    Options,
    Result,
    Scenario,
)
from service.config import SQL_DIR, Settings, load_settings
from service.db import Engine, create_engine

# What tests and other scripts import from here.
__all__ = [
    "ALL", "CROWDS", "GROCERY", "TRAX", "WARM_TRAX", "Crowd", "Options", "Result", "Scenario",
    "Suite", "main", "prepare", "run_scenario", "run_suite",
]  # fmt: skip


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

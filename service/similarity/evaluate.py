"""Quality of suggestions and suspects against known truth, for the configured EMBEDDER.

    python -m service.similarity.evaluate                        # the configured database
    python -m service.similarity.evaluate --catalog DIR --flip 0.1   # DIR imported afresh
    python -m service.similarity.evaluate --demo                 # the demo catalog afresh

The truth is `snapshot_truth` where the demo seeder or `--flip` recorded it, else the
attribution (real catalogs such as trax-sample, where every snapshot is right). `--flip F`
attributes a share F of the snapshots (chosen with `--seed`) to another product, so that
there are mis-attributed snapshots to find. `--catalog` and `--demo` build a throwaway
SQLite database and blob folder, embed everything and score every snapshot's suspicion.

Measures, leave-one-out (a snapshot never votes for itself):
- top1: the top suggestion is the snapshot's true product;
- misattributed_top1: the same, over the mis-attributed snapshots only;
- suspect_precision: of the N most suspicious snapshots, N being how many are
  mis-attributed, the share really mis-attributed;
- reference_top1: the nearest reference image is the true product (the cold start: a
  product known only by its reference image);
- p_at_10: of the 10 nearest other snapshots, the share showing the same true product.
On the configured database, run `reembed` first so that every snapshot is scored.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import msgspec

from service.config import SQL_DIR, Settings, load_settings
from service.db import Session, create_engine, migrate
from service.services import Services, open_services
from service.similarity.index.state import similarity_for
from service.similarity.index.vectors import stack
from service.similarity.ranking import suspects
from service.similarity.ranking.suggestions import gather

BATCH = 256


@dataclass(frozen=True, slots=True)
class Quality:
    model: str
    snapshots: int
    top1: float
    misattributed: int
    misattributed_top1: float | None
    suspect_precision: float | None
    reference_top1: float
    p_at_10: float


@dataclass(frozen=True, slots=True)
class _Checked:
    snapshot_id: int
    true_product_id: int
    misattributed: bool
    top1: bool
    reference_top1: bool
    neighbours: tuple[int, ...]  # the nearest other snapshots' ids, best first


def _check_batch(services: Services, session: Session, after_id: int) -> list[_Checked]:
    similarity = similarity_for(services)
    rows = session.fetch_all(
        "similarity_truth_batch", {"model": similarity.model, "after_id": after_id, "limit": BATCH}
    )
    if not rows:
        return []
    vectors = stack((row["embedding"] for row in rows), similarity.embedder.dimension)
    evidence = gather(similarity, session, vectors, [row["id"] for row in rows])
    checked = []
    for row, found in zip(rows, evidence, strict=True):
        truth = row["true_product_id"]
        top = found.candidates[0].product_id if found.candidates else None
        nearest = found.products[0]["product_id"] if found.products else None
        checked.append(
            _Checked(
                row["id"],
                truth,
                row["product_id"] != truth,
                top == truth,
                nearest == truth,
                tuple(r["snapshot_id"] for r in found.snapshots),
            )
        )
    return checked


def _share(flags: list[bool]) -> float:
    return sum(flags) / len(flags) if flags else 0.0


async def measure(services: Services) -> Quality:
    checked: list[_Checked] = []
    after = 0
    while found := await services.db.read(
        lambda session, a=after: _check_batch(services, session, a)
    ):
        checked.extend(found)
        after = found[-1].snapshot_id
    truth = {c.snapshot_id: c.true_product_id for c in checked}
    wrong = [c for c in checked if c.misattributed]
    precision = None
    if wrong:
        top = await suspects.suspects(services, limit=len(wrong))
        ids = {c.snapshot_id for c in wrong}
        precision = sum(row["snapshot_id"] in ids for row in top) / len(wrong)
    same = [truth.get(n) == c.true_product_id for c in checked for n in c.neighbours]
    return Quality(
        model=similarity_for(services).model,
        snapshots=len(checked),
        top1=_share([c.top1 for c in checked]),
        misattributed=len(wrong),
        misattributed_top1=_share([c.top1 for c in wrong]) if wrong else None,
        suspect_precision=precision,
        reference_top1=_share([c.reference_top1 for c in checked]),
        p_at_10=_share(same),
    )


async def misattribute(services: Services, share: float, seed: int) -> int:
    """Attribute `share` of the snapshots to another product (chosen with `seed`), recording
    the truth; returns how many were moved."""
    rows = await services.db.fetch_all("similarity_evaluate_snapshots")
    products = sorted({row["product_id"] for row in rows})
    if len(products) < 2:
        return 0
    rng = random.Random(seed)
    chosen = rng.sample(rows, round(len(rows) * share))

    def move(session: Session) -> None:
        for row in chosen:
            other = rng.choice([p for p in products if p != row["product_id"]])
            params = {"snapshot_id": row["id"], "true_product_id": row["product_id"]}
            session.execute("catalog_insert_truth", params)
            session.execute(
                "similarity_evaluate_reattribute", {"snapshot_id": row["id"], "product_id": other}
            )

    await services.db.transaction(move)
    return len(chosen)


async def score_all(services: Services) -> int:
    """Score every embedded snapshot's suspicion now, against the whole collection."""
    similarity = similarity_for(services)
    population = int(
        await services.db.fetch_value(
            "similarity_count_snapshot_embeddings", {"model": similarity.model}
        )
        or 0
    )
    after, total = 0, 0
    while True:
        rows = await services.db.fetch_all(
            "similarity_truth_batch", {"model": similarity.model, "after_id": after, "limit": BATCH}
        )
        if not rows:
            return total
        scores = await services.db.read(
            lambda session, r=rows: suspects.score_rows(similarity, session, r, population)
        )
        await services.db.transaction(lambda session, s=scores: suspects.write_scores(session, s))
        after, total = rows[-1]["id"], total + len(rows)


async def _fresh(settings: Settings, folder: Path, args: argparse.Namespace) -> Quality:
    """Build a throwaway database with the catalog asked for, then measure it."""
    from service.catalog.importer import import_catalog
    from service.catalog.seed import seed_catalog
    from service.similarity.background.reembed import reembed

    settings = msgspec.structs.replace(
        settings,
        database_url=f"sqlite:///{folder / 'evaluate.db'}",
        storage_url=f"file://{folder / 'blobs'}",
        worker_enabled=False,
    )
    engine = create_engine(settings.database_url, SQL_DIR)
    try:
        migrate(engine, SQL_DIR)
    finally:
        engine.close()
    async with open_services(settings) as services:
        if args.demo:
            await seed_catalog(services, force=False)
        else:
            report = await import_catalog(services, args.catalog)
            if report.failures:
                raise SystemExit("\n".join(report.failures))
        if args.flip:
            await misattribute(services, args.flip, args.seed)
        await reembed(services, out=sys.stderr)
        await score_all(services)
        return await measure(services)


async def _configured(settings: Settings) -> Quality:
    async with open_services(settings) as services:
        return await measure(services)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Similarity quality against known truth.")
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--catalog", type=Path, help="import this catalog folder afresh")
    source.add_argument("--demo", action="store_true", help="seed the demo catalog afresh")
    parser.add_argument("--flip", type=float, default=0.0, help="share to mis-attribute")
    parser.add_argument("--seed", type=int, default=1, help="which snapshots --flip moves")
    args = parser.parse_args(argv)
    if not 0 <= args.flip < 1:
        parser.error("--flip must be in [0, 1)")
    if args.flip and not args.catalog:
        parser.error("--flip needs --catalog (it rewrites attributions; the demo has its own)")
    settings = load_settings()
    if args.catalog or args.demo:
        with tempfile.TemporaryDirectory(prefix="evaluate-") as folder:
            quality = asyncio.run(_fresh(settings, Path(folder), args))
    else:
        quality = asyncio.run(_configured(settings))
    for key, value in asdict(quality).items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        print(f"{key:<20} {shown}")
    print(json.dumps(asdict(quality)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Quality of suggestions, suspects and packshot search against known truth (the measures
behind `scripts/evaluate.py`, the tests' quality floors and `scripts/ablate_recognition.py`).

The truth is `snapshot_truth` where the demo seeder or `--flip` recorded it, else the
attribution (real catalogs such as trax-sample, where every snapshot is right). `misattribute`
attributes a share of the snapshots to another product, so that there are mis-attributed
snapshots to find.

What is measured is what the service answers: the active projection's vectors, the nearest
reference images re-ranked by the geometric check, the vote. `measure` scores under a
projection fitted on every label the catalog has, as the service fits it. `cross_validate`
scores nothing on what it was fitted on: the snapshots are split into K folds (each
product's spread over all of them), and each fold is scored under a projection fitted
without it; then products are held out, a third at a time, and their photos searched among
all packshots under a projection that never saw them (`reference_top1_unseen`).

Measures, leave-one-out (a snapshot never votes for itself):
- top1: the top suggestion is the snapshot's true product;
- misattributed_top1: the same, over the mis-attributed snapshots only;
- suspect_precision: of the N most suspicious snapshots, N being how many are
  mis-attributed, the share really mis-attributed;
- reference_top1: the nearest reference image, after the geometric check, is the true
  product (packshot search: a product known only by its reference image);
- reference_top1_unseen: the same for products the projection never saw (`cross_validate`);
- p_at_10: of the 10 nearest other snapshots, the share showing the same true product.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Iterable
from dataclasses import dataclass

from service.db import Row, Session
from service.services import Services
from service.similarity.background import refit
from service.similarity.index.state import Current, current_for, similarity_for
from service.similarity.ranking import suspects
from service.similarity.ranking.votes import suspicion

BATCH = 256
HELD_OUT_SPLITS = 3  # products held out a third at a time


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
    reference_top1_unseen: float | None = None
    folds: int = 0


@dataclass(frozen=True, slots=True)
class Checked:
    snapshot_id: int
    true_product_id: int
    misattributed: bool
    top1: bool
    reference_top1: bool
    suspicion: float
    neighbours: tuple[int, ...]  # the nearest other snapshots' ids, best first


async def check(
    services: Services, current: Current, only: set[int] | None = None
) -> list[Checked]:
    """Every embedded snapshot (or those in `only`) as the service would judge it now."""
    similarity = similarity_for(services)
    out: list[Checked] = []
    after = 0
    while True:
        rows = await services.db.fetch_all(
            "similarity_truth_batch", {"model": current.model, "after_id": after, "limit": BATCH}
        )
        if not rows:
            return out
        after = rows[-1]["id"]
        rows = [row for row in rows if only is None or row["id"] in only]
        if not rows:
            continue
        evidence = await suspects.evidence_for(
            services, similarity, current, rows, background=False
        )
        for row, found in zip(rows, evidence, strict=True):
            truth = row["true_product_id"]
            top = found.candidates[0].product_id if found.candidates else None
            nearest = found.products[0]["product_id"] if found.products else None
            out.append(
                Checked(
                    row["id"],
                    truth,
                    row["product_id"] != truth,
                    top == truth,
                    nearest == truth,
                    suspicion(row["product_id"], found.candidates).score,
                    tuple(r["snapshot_id"] for r in found.snapshots),
                )
            )


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


def summarise(model: str, checked: list[Checked], folds: int = 0) -> Quality:
    truth = {c.snapshot_id: c.true_product_id for c in checked}
    wrong = [c for c in checked if c.misattributed]
    precision = None
    if wrong:
        top = sorted(checked, key=lambda c: (-c.suspicion, c.snapshot_id))[: len(wrong)]
        precision = sum(c.misattributed for c in top) / len(wrong)
    same = [truth.get(n) == c.true_product_id for c in checked for n in c.neighbours]
    return Quality(
        model=model,
        snapshots=len(checked),
        top1=_share(c.top1 for c in checked),
        misattributed=len(wrong),
        misattributed_top1=_share(c.top1 for c in wrong) if wrong else None,
        suspect_precision=precision,
        reference_top1=_share(c.reference_top1 for c in checked),
        p_at_10=_share(same),
        folds=folds,
    )


async def measure(services: Services) -> Quality:
    """The configured database as it stands, under its active projection."""
    current = await current_for(services)
    return summarise(current.model, await check(services, current))


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


def folds_of(rows: list[Row], k: int, seed: int) -> dict[int, int]:
    """Snapshot id -> fold, each product's snapshots dealt round-robin after a shuffle."""
    rng = random.Random(seed)
    by_product: dict[int, list[int]] = {}
    for row in rows:
        by_product.setdefault(row["product_id"], []).append(row["id"])
    out = {}
    for product in sorted(by_product):
        ids = sorted(by_product[product])
        rng.shuffle(ids)
        out.update({id_: n % k for n, id_ in enumerate(ids)})
    return out


async def cross_validate(services: Services, k: int, seed: int) -> Quality:
    """Every snapshot scored under a projection fitted without its fold; packshot search for
    held-out products under projections that never saw them."""
    truth = {
        row["id"]: row["true_product_id"]
        for row in await services.db.fetch_all("similarity_evaluate_truth")
    }
    fold = folds_of([{"id": i, "product_id": p} for i, p in truth.items()], k, seed)
    checked: list[Checked] = []
    model = ""
    for n in range(k):
        test = {i for i, f in fold.items() if f == n}

        def without_fold(products: list[Row], snapshots: list[Row], test=test):  # noqa: ANN202
            return products, [row for row in snapshots if row["id"] not in test]

        await refit.refit(services, select=without_fold)
        current = await current_for(services)
        model = current.model.split("+")[0]
        checked += await check(services, current, test)
    quality = summarise(f"{model} ({k}-fold)", checked, k)
    unseen = await _unseen_products(services, truth, seed)
    return dataclasses.replace(quality, reference_top1_unseen=unseen)


async def _unseen_products(services: Services, truth: dict[int, int], seed: int) -> float | None:
    products = sorted(set(truth.values()))
    if len(products) < HELD_OUT_SPLITS:
        return None
    rng = random.Random(seed)
    rng.shuffle(products)
    hits: list[bool] = []
    for n in range(HELD_OUT_SPLITS):
        held = set(products[n::HELD_OUT_SPLITS])

        def without_held(products: list[Row], snapshots: list[Row], held=held):  # noqa: ANN202
            return (
                [row for row in products if row["product_id"] not in held],
                [row for row in snapshots if truth.get(row["id"]) not in held],
            )

        await refit.refit(services, select=without_held)
        current = await current_for(services)
        photos = {i for i, p in truth.items() if p in held}
        hits += [c.reference_top1 for c in await check(services, current, photos)]
    return _share(hits)

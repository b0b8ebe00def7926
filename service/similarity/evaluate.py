"""Quality of suggestions and suspects on the configured database, against known truth.

    python -m service.similarity.evaluate

For each embedded snapshot (leave-one-out: it never votes for itself): is the top suggestion
its true product, and is the nearest reference image its true product? The truth is
`snapshot_truth` where the demo seeder recorded it, else the attribution (real catalogs such
as trax-sample). And of the snapshots attributed to the wrong product, what share ranks in
the top 10% of the suspects (run `reembed` first so every snapshot is scored)?
"""

from __future__ import annotations

import asyncio
import json
import math
from dataclasses import asdict, dataclass

from service.config import load_settings
from service.db import Session
from service.services import Services, open_services
from service.similarity import suspects
from service.similarity.state import similarity_for
from service.similarity.suggestions import gather
from service.similarity.vectors import stack

BATCH = 256


@dataclass(frozen=True, slots=True)
class Quality:
    snapshots: int
    top1: float  # top suggestion (kNN vote) is the true product
    reference_top1: float  # nearest reference image is the true product
    misattributed: int
    suspects_top10: float | None  # share of misattributed ranked in the top 10% of suspects


@dataclass(frozen=True, slots=True)
class _Checked:
    snapshot_id: int
    misattributed: bool
    top1: bool
    reference_top1: bool


def _check_batch(services: Services, session: Session, after_id: int) -> tuple[list[_Checked], int]:
    similarity = similarity_for(services)
    rows = session.fetch_all(
        "similarity_truth_batch", {"model": similarity.model, "after_id": after_id, "limit": BATCH}
    )
    if not rows:
        return [], after_id
    vectors = stack((row["embedding"] for row in rows), similarity.embedder.dimension)
    evidence = gather(similarity, session, vectors, [row["id"] for row in rows])
    checked = []
    for row, found in zip(rows, evidence, strict=True):
        truth = row["true_product_id"]
        top = found.candidates[0].product_id if found.candidates else None
        nearest = found.products[0]["product_id"] if found.products else None
        checked.append(
            _Checked(row["id"], row["product_id"] != truth, top == truth, nearest == truth)
        )
    return checked, rows[-1]["id"]


async def measure(services: Services) -> Quality:
    checked: list[_Checked] = []
    after = 0
    while True:
        found, after = await services.db.read(
            lambda session, a=after: _check_batch(services, session, a)
        )
        if not found:
            break
        checked.extend(found)
    n = len(checked)
    wrong = {c.snapshot_id for c in checked if c.misattributed}
    share = None
    if wrong:
        top = await suspects.suspects(services, limit=max(1, math.ceil(n * 0.10)))
        share = len(wrong & {row["snapshot_id"] for row in top}) / len(wrong)
    return Quality(
        snapshots=n,
        top1=sum(c.top1 for c in checked) / n if n else 0.0,
        reference_top1=sum(c.reference_top1 for c in checked) / n if n else 0.0,
        misattributed=len(wrong),
        suspects_top10=share,
    )


def main() -> None:
    async def run() -> Quality:
        async with open_services(load_settings()) as services:
            return await measure(services)

    print(json.dumps(asdict(asyncio.run(run()))))


if __name__ == "__main__":
    main()

"""What each part of recognition buys, measured with `evaluate`'s cross-validation.

    python -m scripts.ablate_recognition [--catalog ../shared/data/grocery-train] [--seed 1]

The catalog is imported once (10% mis-attributed), then for each variant its pictures are
embedded and it is cross-validated (5 folds, products held out a third at a time) exactly as
`python -m scripts.evaluate --folds 5` does:

- `full`: the default (3 crops, projection, geometric re-rank);
- `no geometric check`: the nearest packshots are not re-ranked;
- `no projection`: the raw network vectors (no fit);
- `one crop`: photos seen as their widest centred square only.

Prints a table and one JSON line. Takes a few minutes on 2 cores (each variant re-scores
every snapshot; embeddings are shared by all but `one crop`).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import msgspec

from service.catalog.importer import import_catalog
from service.config import ROOT, SQL_DIR, load_settings
from service.db import migrate_database
from service.services import open_services
from service.similarity.background import refit
from service.similarity.background.reembed import reembed
from service.similarity.embedding import embedders
from service.similarity.quality import Quality, cross_validate, misattribute
from service.similarity.ranking import rerank

VARIANTS = ("full", "no geometric check", "no projection", "one crop")


@contextlib.contextmanager
def variant(name: str) -> Iterator[None]:
    """The default with one part switched off (module constants, restored after)."""
    saved = (rerank.WEIGHT, refit.wccn.fit, embedders.RECIPE)
    try:
        if name == "no geometric check":
            rerank.WEIGHT = 0.0
        elif name == "no projection":

            def refuse(*args: object, **kwargs: object):  # type: ignore[no-untyped-def]
                raise ValueError("projection switched off")

            refit.wccn.fit = refuse  # type: ignore[assignment]
        elif name == "one crop":
            embedders.RECIPE = "1-one-crop"  # another model name: its own vectors
        yield
    finally:
        rerank.WEIGHT, refit.wccn.fit, embedders.RECIPE = saved


async def measure(folder: Path, catalog: Path, seed: int) -> dict[str, Quality]:
    settings = msgspec.structs.replace(
        load_settings(),
        database_url=f"sqlite:///{folder / 'ablate.db'}",
        storage_url=f"file://{folder / 'blobs'}",
        worker_enabled=False,
    )
    migrate_database(settings.database_url, SQL_DIR)
    out: dict[str, Quality] = {}
    async with open_services(settings) as services:
        report = await import_catalog(services, catalog)
        if report.failures:
            raise SystemExit("\n".join(report.failures))
        await misattribute(services, 0.1, seed)
    for name in VARIANTS:
        with variant(name):
            crops = (1.0,) if name == "one crop" else embedders.framing.PHOTO_CROPS
            saved = embedders.framing.PHOTO_CROPS
            embedders.framing.PHOTO_CROPS = crops
            try:
                # a fresh Similarity per variant: services are opened again
                async with open_services(settings) as services:
                    # start from no projection: the last variant's active one would leak in
                    await services.db.transaction(
                        lambda session: session.raw(
                            "UPDATE similarity_projections SET phase = 'retired'"
                        )
                    )
                    await reembed(services, fit=False, out=sys.stderr)
                    out[name] = await cross_validate(services, 5, seed)
            finally:
                embedders.framing.PHOTO_CROPS = saved
        print(f"{name}: {json.dumps(asdict(out[name]))}", file=sys.stderr)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--catalog", type=Path, default=ROOT.parent / "shared/data/grocery-train")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    from service.logs import configure_logging

    configure_logging("warning", "console")  # stdout is for the table and the JSON line
    with tempfile.TemporaryDirectory(prefix="ablate-") as folder:
        results = asyncio.run(measure(Path(folder), args.catalog, args.seed))
    fields = ("top1", "misattributed_top1", "suspect_precision", "reference_top1")
    fields += ("reference_top1_unseen", "p_at_10")
    print(f"| variant | {' | '.join(fields)} |")
    print(f"| --- |{' --- |' * len(fields)}")
    for name, quality in results.items():
        values = [getattr(quality, f) for f in fields]
        shown = " | ".join("-" if v is None else f"{v:.3f}" for v in values)
        print(f"| {name} | {shown} |")
    print(json.dumps({name: asdict(q) for name, q in results.items()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

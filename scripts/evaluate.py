"""Quality of suggestions, suspects and packshot search against known truth
(service/similarity/quality.py says what each measure means).

    python -m scripts.evaluate                                     # the configured database
    python -m scripts.evaluate --catalog DIR --flip 0.1            # DIR imported afresh
    python -m scripts.evaluate --catalog DIR --flip 0.1 --folds 5  # cross-validated
    python -m scripts.evaluate --demo                              # the demo catalog afresh

`--flip F` attributes a share F of the snapshots (chosen with `--seed`) to another product,
so that there are mis-attributed snapshots to find. `--catalog` and `--demo` build a
throwaway SQLite database and blob folder and embed everything. Prints a table, then the
same as one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path

import msgspec

from service.catalog.importer import import_catalog
from service.catalog.seed import seed_catalog
from service.config import SQL_DIR, Settings, load_settings
from service.db import migrate_database
from service.services import open_services
from service.similarity.background.reembed import reembed
from service.similarity.quality import Quality, cross_validate, measure, misattribute


async def _fresh(settings: Settings, folder: Path, args: argparse.Namespace) -> Quality:
    """Build a throwaway database with the catalog asked for, then measure it."""
    settings = msgspec.structs.replace(
        settings,
        database_url=f"sqlite:///{folder / 'evaluate.db'}",
        storage_url=f"file://{folder / 'blobs'}",
        worker_enabled=False,
    )
    migrate_database(settings.database_url, SQL_DIR)
    async with open_services(settings) as services:
        if args.demo:
            await seed_catalog(services, force=False)
        else:
            report = await import_catalog(services, args.catalog)
            if report.failures:
                raise SystemExit("\n".join(report.failures))
        if args.flip:
            await misattribute(services, args.flip, args.seed)
        if args.folds:
            await reembed(services, fit=False, out=sys.stderr)
            return await cross_validate(services, args.folds, args.seed)
        await reembed(services, out=sys.stderr)
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
    parser.add_argument("--folds", type=int, default=0, help="cross-validate in K folds")
    args = parser.parse_args(argv)
    if not 0 <= args.flip < 1:
        parser.error("--flip must be in [0, 1)")
    if args.flip and not args.catalog:
        parser.error("--flip needs --catalog (it rewrites attributions; the demo has its own)")
    if args.folds and (args.folds < 2 or not (args.catalog or args.demo)):
        parser.error("--folds needs K >= 2 and --catalog or --demo")
    settings = load_settings()
    if args.catalog or args.demo:
        with tempfile.TemporaryDirectory(prefix="evaluate-") as folder:
            quality = asyncio.run(_fresh(settings, Path(folder), args))
    else:
        quality = asyncio.run(_configured(settings))
    for key, value in asdict(quality).items():
        shown = f"{value:.3f}" if isinstance(value, float) else value
        print(f"{key:<22} {shown}")
    print(json.dumps(asdict(quality)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

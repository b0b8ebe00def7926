"""`python -m service import-catalog DIR`: products and snapshots from a folder.

Layout (that of ../shared/data/trax-sample):

    DIR/products/{upc}.jpg            the reference image of each product
    DIR/snapshots/{upc}/*.jpg         snapshots attributed to that product
    DIR/products.csv                  optional: `upc,name` header and rows; else name = UPC

Idempotent: an existing UPC is kept as it is, and a snapshot whose bytes (sha256) are already
stored for the same product is skipped. Files that are not acceptable images are reported and
skipped; the exit status is 1 if any were.
"""

from __future__ import annotations

import csv
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from service.catalog import store
from service.config import Settings
from service.errors import Conflict, NotFound, ServiceError
from service.progress import progress_bar
from service.services import Services, open_services

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".gif"}
_UPC = re.compile(r"[0-9]{8,14}")


@dataclass
class ImportReport:
    products_added: int = 0
    products_kept: int = 0
    snapshots_added: int = 0
    snapshots_kept: int = 0
    failures: list[str] = field(default_factory=list)

    def summary(self) -> str:
        return (
            f"products: {self.products_added} added, {self.products_kept} already present; "
            f"snapshots: {self.snapshots_added} added, {self.snapshots_kept} already present; "
            f"{len(self.failures)} file(s) failed"
        )


def _images(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _names(root: Path) -> dict[str, str]:
    path = root / "products.csv"
    if not path.is_file():
        return {}
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return {row["upc"].strip(): row["name"].strip() for row in csv.DictReader(fh)
                if row.get("upc") and row.get("name")}  # fmt: skip


async def import_catalog(services: Services, root: Path) -> ImportReport:
    """Store `root`'s products and snapshots without telling the catalog's listeners (the
    caller embeds in batches: `import-catalog` runs `reembed`, a server its catch-up)."""
    if not (root / "products").is_dir() and not (root / "snapshots").is_dir():
        raise NotFound(f"{root} has neither a products/ nor a snapshots/ folder")
    report = ImportReport()
    names = _names(root)
    product_files = _images(root / "products")
    snapshot_dirs = sorted(p for p in (root / "snapshots").glob("*") if p.is_dir())
    snapshot_files = [(d.name, f) for d in snapshot_dirs for f in _images(d)]
    ids: dict[str, int] = {}
    with progress_bar("import catalog", len(product_files) + len(snapshot_files)) as progress:
        for path in product_files:
            upc = path.stem
            try:
                if not _UPC.fullmatch(upc):
                    raise ServiceError("file name is not a UPC (8 to 14 digits)")
                await store.create_product(
                    services,
                    upc=upc,
                    name=names.get(upc, upc),
                    image=path.read_bytes(),
                    notify=False,
                )
                report.products_added += 1
            except Conflict:
                report.products_kept += 1
            except ServiceError as exc:
                report.failures.append(f"{path}: {exc.message}")
            progress.update()
        for upc, path in snapshot_files:
            try:
                if upc not in ids:
                    ids[upc] = await store.product_id(services, upc)
                added = await store.add_snapshot(
                    services,
                    product_id=ids[upc],
                    image=path.read_bytes(),
                    source=f"{upc}/{path.name}",
                    dedupe=True,
                    notify=False,
                )
                if added.created:
                    report.snapshots_added += 1
                else:
                    report.snapshots_kept += 1
            except ServiceError as exc:
                report.failures.append(f"{path}: {exc.message}")
            progress.update()
    return report


async def run_import(settings: Settings, root: Path) -> int:
    """The CLI command: import, print failures and a summary; 1 if anything failed."""
    async with open_services(settings) as services:
        try:
            report = await import_catalog(services, root)
        except NotFound as exc:
            print(f"import-catalog: {exc.message}", file=sys.stderr)
            return 2
    for failure in report.failures:
        print(f"failed: {failure}", file=sys.stderr)
    print(report.summary())
    return 1 if report.failures else 0

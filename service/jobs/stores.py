"""The store master: parse the assignment's CSV, upsert it in one transaction, seed a demo one.

Format: header `AreaCode,StoreName,StoreID` (any order, any case), CRLF or LF line ends, an
optional UTF-8 BOM, names quoted when they hold commas, a final newline or not. A file with
any bad row loads nothing; every problem is reported with its line number.
"""

from __future__ import annotations

import asyncio
import csv
import io
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from service.clock import utcnow
from service.config import Settings
from service.db import Database, DatabaseError, Session
from service.services import Services, open_database

from .contract import MAX_STORE_ID_LENGTH

COLUMNS = ("AreaCode", "StoreName", "StoreID")
MAX_PROBLEMS = 50
_STORE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")


class StoreFileError(ValueError):
    """The file cannot be loaded; `problems` are `line N: ...` messages."""

    def __init__(self, problems: list[str]) -> None:
        shown = problems[:MAX_PROBLEMS]
        if len(problems) > MAX_PROBLEMS:
            shown.append(f"... and {len(problems) - MAX_PROBLEMS} more problems")
        super().__init__("\n".join(shown))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Store:
    store_id: str
    store_name: str
    area_code: str


@dataclass(frozen=True, slots=True)
class LoadReport:
    total: int
    inserted: int

    @property
    def updated(self) -> int:
        return self.total - self.inserted


def _header(fields: list[str]) -> dict[str, int]:
    names = [field.strip().lstrip("\ufeff").lower() for field in fields]
    wanted = [column.lower() for column in COLUMNS]
    if sorted(names) != sorted(wanted):
        raise StoreFileError(
            [f"line 1: header must be {','.join(COLUMNS)} (got {','.join(fields)[:200]!r})"]
        )
    return {column: names.index(column.lower()) for column in COLUMNS}


def _check_row(line: int, values: dict[str, str]) -> list[str]:
    problems = []
    for column, limit in (("AreaCode", 32), ("StoreName", 255), ("StoreID", MAX_STORE_ID_LENGTH)):
        value = values[column]
        if not value:
            problems.append(f"line {line}: {column} is empty")
        elif len(value) > limit:
            problems.append(f"line {line}: {column} is longer than {limit} characters")
        elif "\n" in value or "\r" in value:
            problems.append(f"line {line}: {column} contains a line break")
    store_id = values["StoreID"]
    if store_id and len(store_id) <= MAX_STORE_ID_LENGTH and not _STORE_ID.match(store_id):
        problems.append(
            f"line {line}: StoreID {store_id!r} may hold only letters, digits, '-', '_' and '.'"
        )
    return problems


def parse_store_master(data: bytes) -> list[Store]:
    """All stores in the file, or StoreFileError listing every bad line."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise StoreFileError([f"the file is not UTF-8 text (byte {exc.start})"]) from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    problems: list[str] = []
    stores: list[Store] = []
    first_line: dict[str, int] = {}
    columns: dict[str, int] | None = None
    previous_end = 0
    try:
        for record in reader:
            line, previous_end = previous_end + 1, reader.line_num
            if not record or all(not field.strip() for field in record):
                continue  # blank line
            if columns is None:
                columns = _header(record)
                continue
            if len(record) != len(COLUMNS):
                problems.append(
                    f"line {line}: expected 3 fields ({','.join(COLUMNS)}), got {len(record)}"
                    + (" (quote names that contain commas)" if len(record) > 3 else "")
                )
                continue
            values = {column: record[index].strip() for column, index in columns.items()}
            row_problems = _check_row(line, values)
            if row_problems:
                problems.extend(row_problems)
                continue
            store_id = values["StoreID"]
            if store_id in first_line:
                problems.append(
                    f"line {line}: StoreID {store_id} repeats line {first_line[store_id]}"
                )
                continue
            first_line[store_id] = line
            stores.append(Store(store_id, values["StoreName"], values["AreaCode"]))
    except csv.Error as exc:
        problems.append(f"line {previous_end + 1}: malformed CSV ({exc})")
    if columns is None and not problems:
        problems.append("the file is empty (expected a header AreaCode,StoreName,StoreID)")
    elif not stores and not problems:
        problems.append("the file has a header but no stores")
    if problems:
        raise StoreFileError(problems)
    return stores


async def upsert_stores(db: Database, stores: list[Store]) -> LoadReport:
    """Insert new stores and refresh known ones, all in one transaction."""
    now = utcnow()

    def write(session: Session) -> LoadReport:
        before = int(session.fetch_value("stores_count") or 0)
        session.execute_many(
            "stores_upsert",
            (
                {
                    "store_id": s.store_id,
                    "store_name": s.store_name,
                    "area_code": s.area_code,
                    "updated_at": now,
                }
                for s in stores
            ),
        )
        after = int(session.fetch_value("stores_count") or 0)
        return LoadReport(total=len(stores), inserted=after - before)

    return await db.transaction(write)


# -- demo data --------------------------------------------------------------------------------
_WORDS = (
    "BHARAT",
    "GANESH",
    "LAXMI",
    "SAI",
    "NEW",
    "SHREE",
    "JAI",
    "ROYAL",
    "AMAN",
    "KRISHNA",
    "STAR",
    "CITY",
    "FRESH",
    "DAILY",
    "GOLDEN",
    "NAVEEN",
    "SURYA",
    "MOTI",
    "RAJ",
    "ANAND",
)
_KINDS = ("STORE", "GENERAL STORE", "KIRANA", "MART", "TRADERS", "PROVISION", "SUPER MARKET")
_AREAS = ("7100015", "7000129")


def demo_store_master(count: int = 60, seed: int = 20261121) -> bytes:
    """A small store master in the assignment's format (CRLF, quoted commas, no final newline),
    RP00001 onwards, so the issue's example payload finds its stores."""
    rng = random.Random(seed)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for number in range(1, count + 1):
        name = f"{rng.choice(_WORDS)} {rng.choice(_KINDS)}"
        if number % 9 == 0:
            name = f"{name},-{rng.randint(1, 9)}"  # names with commas get quoted
        writer.writerow((_AREAS[number % 2], name, f"RP{number:05d}"))
    return out.getvalue().removesuffix("\r\n").encode()


async def seed_stores(services: Services, force: bool) -> str:
    """Seeder for `make seed`: the demo store master, only into an empty table."""
    db = services.db
    existing = int(await db.fetch_value("stores_count") or 0)
    if existing and not force:
        return f"skipped, {existing} stores already loaded"
    report = await upsert_stores(db, parse_store_master(demo_store_master()))
    return f"{report.total} demo stores ({report.inserted} new, {report.updated} updated)"


# -- CLI --------------------------------------------------------------------------------------
def load_stores_command(settings: Settings, path: Path) -> int:
    """`python -m service load-stores FILE`: 0 when loaded, 1 with the problems otherwise."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    try:
        stores = parse_store_master(data)
    except StoreFileError as exc:
        print(f"{path}: nothing loaded, {len(exc.problems)} problem(s):", file=sys.stderr)
        print(str(exc), file=sys.stderr)
        return 1
    db = open_database(settings)
    try:
        report = asyncio.run(upsert_stores(db, stores))
    except DatabaseError as exc:
        print(f"nothing loaded: {exc} (has `python -m service migrate` run?)", file=sys.stderr)
        return 1
    finally:
        db.close()
    print(
        f"loaded {report.total} stores from {path}: {report.inserted} new, {report.updated} updated"
    )
    return 0

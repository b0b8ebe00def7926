"""Read-only QA reports: the leaderboard and the cleaned-dataset export."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Callable
from typing import Literal

import msgspec

from service.db import Database, Row
from service.qa import consensus
from service.qa.leaderboard import QAStats, Standing, rank

ExportFormat = Literal["csv", "jsonl"]
EXPORT_COLUMNS = [
    "snapshot_id", "product_upc", "image_url", "votes_match", "votes_mismatch", "status",
    "confidence", "settled_by", "moves",
]  # fmt: skip
EXPORT_PAGE = 1000


async def leaderboard(db: Database) -> list[Standing]:
    def collect(session):  # type: ignore[no-untyped-def]
        return session.fetch_all("qa_verdict_stats"), session.fetch_all("qa_activity")

    verdicts, activity = await db.read(collect)
    points = {row["username"]: int(row["activity_points"] or 0) for row in activity}
    stats = [
        QAStats(
            username=row["username"],
            reviewed=int(row["reviewed"]),
            judged=int(row["judged"] or 0),
            agreed=int(row["agreed"] or 0),
            activity_points=points.pop(row["username"], 0),
        )
        for row in verdicts
    ]
    stats += [QAStats(name, 0, 0, 0, value) for name, value in points.items()]
    return rank(stats)


def _csv_line(values: list[object]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue().encode()


async def export_rows(
    db: Database,
    image_url: Callable[[str], str],
    status: str | None,
    fmt: ExportFormat,
) -> AsyncIterator[bytes]:
    """The dataset in id order, a page at a time, so memory stays flat however large it is."""
    if fmt == "csv":
        yield _csv_line(EXPORT_COLUMNS)
    after_id = 0
    while True:
        params: dict[str, object] = {"after_id": after_id, "limit": EXPORT_PAGE}
        if status is None:
            rows = await db.fetch_all("qa_export_page", params)
        else:
            rows = await db.fetch_all("qa_export_page_by_status", {**params, "status": status})
        if not rows:
            return
        chunk = [_encode(_record(row, image_url), fmt) for row in rows]
        yield b"".join(chunk)
        after_id = rows[-1]["snapshot_id"]


def _record(row: Row, image_url: Callable[[str], str]) -> dict[str, object]:
    confidence, settled_by = consensus.reported(row["status"], row["posterior"], row["settled_by"])
    return {
        "snapshot_id": row["snapshot_id"],
        "product_upc": row["product_upc"],
        "image_url": image_url(row["image_key"]),
        "votes_match": row["votes_match"],
        "votes_mismatch": row["votes_mismatch"],
        "status": row["status"],
        "confidence": None if confidence is None else round(confidence, 6),
        "settled_by": settled_by,
        "moves": row["moves"],
    }


def _encode(record: dict[str, object], fmt: ExportFormat) -> bytes:
    if fmt == "csv":
        return _csv_line([record[column] for column in EXPORT_COLUMNS])
    return msgspec.json.encode(record) + b"\n"

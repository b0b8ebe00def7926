"""A snapshot's history of moves, and every snapshot's recent moves, as the desk shows them.

The recent moves page by a keyset cursor (moved_at, id), so a move made meanwhile never shifts
the next page. Cursors are opaque strings.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from service.catalog.models import Votes
from service.clock import as_datetime, as_utc
from service.db import Row
from service.errors import InvalidInput, NotFound
from service.lead.models import HeldQA, HeldVerdict, Move, MovePage, SnapshotHistory
from service.lead.tiles import thumb, tile
from service.qa.consensus import reported
from service.services import Services

_MOVE_CURSOR = re.compile(r"([0-9]{1,19})_([0-9]{1,19})")
_EPOCH = datetime(1970, 1, 1)
_FAR_FUTURE = datetime(9999, 1, 1)


def _move(services: Services, row: Row, verdicts: list[Row]) -> Move:
    confidence, settled_by = reported(
        row["held_status"], row["held_posterior"], row["held_settled_by"]
    )
    return Move(
        move_id=row["id"],
        snapshot_id=row["snapshot_id"],
        seq=row["seq"],
        kind=row["kind"],
        moved_by=row["moved_by"],
        moved_at=as_utc(row["moved_at"]),  # type: ignore[arg-type]
        reason=row["reason"],
        from_product=tile(
            services,
            row["from_product_id"],
            row["from_upc"],
            row["from_name"],
            row["from_image_key"],
        ),  # fmt: skip
        to_product=tile(
            services, row["to_product_id"], row["to_upc"], row["to_name"], row["to_image_key"]
        ),  # fmt: skip
        held=HeldQA(
            status=row["held_status"],
            votes=Votes(row["held_votes_match"], row["held_votes_mismatch"]),
            settled_by=settled_by,
            confidence=None if confidence is None else round(confidence, 6),
            released=row["released"],
            verdicts=[
                HeldVerdict(
                    username=v["username"],
                    is_match=bool(v["is_match"]),
                    answered_at=as_utc(v["answered_at"]),
                    restored=v["restored_by"] is not None,
                )
                for v in verdicts
            ],
        ),
        qa_outcome=row["qa_outcome"],
        undone_by=row["undone_by"],
        image_url=services.blobs.url(row["image_key"]),
        thumb_url=thumb(services, row["image_key"]),
    )


async def history(services: Services, snapshot_id: int) -> SnapshotHistory:
    def read(session: Any) -> SnapshotHistory | None:
        if session.fetch_one("lead_snapshot", {"snapshot_id": snapshot_id}) is None:
            return None
        params = {"snapshot_id": snapshot_id}
        rows = session.fetch_all("lead_snapshot_history", params)
        verdicts: dict[int, list[Row]] = {}
        for v in session.fetch_all("lead_snapshot_held_verdicts", params):
            verdicts.setdefault(v["move_id"], []).append(v)
        return SnapshotHistory(
            snapshot_id, [_move(services, row, verdicts.get(row["id"], [])) for row in rows]
        )

    found = await services.db.read(read)
    if found is None:
        raise NotFound(f"no snapshot with id {snapshot_id}")
    return found


def _move_cursor(raw: str | None) -> tuple[datetime, int]:
    if not raw:
        return _FAR_FUTURE, 0
    found = _MOVE_CURSOR.fullmatch(raw)
    try:
        if found is None:
            raise ValueError
        micros, move_id = int(found.group(1)), int(found.group(2))
        return _EPOCH + timedelta(microseconds=micros), move_id
    except (ValueError, OverflowError):
        raise InvalidInput("cursor must be a value returned as next_cursor") from None


async def recent_moves(services: Services, limit: int, cursor: str | None) -> MovePage:
    before_at, before_id = _move_cursor(cursor)

    def read(session: Any) -> tuple[list[tuple[Row, list[Row]]], bool]:
        rows = session.fetch_all(
            "lead_recent_moves",
            {"before_at": before_at, "before_id": before_id, "limit": limit + 1},
        )
        out = []
        for row in rows[:limit]:
            held = session.fetch_all("lead_snapshot_held_verdicts",
                                     {"snapshot_id": row["snapshot_id"]})  # fmt: skip
            out.append((row, [v for v in held if v["move_id"] == row["id"]]))
        return out, len(rows) > limit

    found, more = await services.db.read(read)
    next_cursor = None
    if more:
        when = as_datetime(found[-1][0]["moved_at"])
        assert when is not None
        micros = (when - _EPOCH) // timedelta(microseconds=1)
        next_cursor = f"{micros}_{found[-1][0]['id']}"
    return MovePage([_move(services, row, held) for row, held in found], next_cursor)

"""What the lead's desk reads: suspects, products (search, one product's view), history.

Pages use keyset cursors, so a tile acted on (it leaves the list) never shifts the next page:
suspects by (suspicion, snapshot id), moves by (moved_at, id). Cursors are opaque strings.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from service.catalog.models import Votes
from service.clock import as_datetime, as_utc
from service.db import Row
from service.errors import InvalidInput, NotFound
from service.http.thumbs import thumbnail_url
from service.lead import relabel
from service.lead.models import (
    ConfusedSnapshot,
    Confusion,
    HeldQA,
    HeldVerdict,
    Move,
    MovePage,
    ProductTile,
    ProductView,
    SnapshotHistory,
    SnapshotThumb,
    StatusGroup,
    SuggestedProduct,
    SuspectPage,
    SuspectTile,
)
from service.qa.consensus import reported
from service.services import Services

STATUSES = ("pending", "match", "mismatch")
_SUSPECT_CURSOR = re.compile(r"(-?[0-9.eE+-]{1,32})_([0-9]{1,19})")
_MOVE_CURSOR = re.compile(r"([0-9]{1,19})_([0-9]{1,19})")
_EPOCH = datetime(1970, 1, 1)
_FAR_FUTURE = datetime(9999, 1, 1)


def _thumb(services: Services, key: str) -> str:
    return thumbnail_url(services.settings.public_url, key)


def _tile(services: Services, id_: int, upc: str, name: str, key: str) -> ProductTile:
    return ProductTile(id_, upc, name, services.blobs.url(key), _thumb(services, key))


# -- suspects -------------------------------------------------------------------------------


def _suspect_cursor(raw: str | None) -> tuple[float, int]:
    if not raw:
        return 2.0, 0  # above every suspicion score
    found = _SUSPECT_CURSOR.fullmatch(raw)
    try:
        if found is None:
            raise ValueError
        return float(found.group(1)), int(found.group(2))
    except ValueError:
        raise InvalidInput("cursor must be a value returned as next_cursor") from None


async def product_id(services: Services, upc: str) -> int:
    row = await services.db.fetch_one("lead_product_by_upc", {"upc": upc})
    if row is None:
        raise NotFound(f"no product with UPC {upc}")
    return int(row["id"])


def _suspect(services: Services, row: Row) -> SuspectTile:
    suggested = None
    if row["suggested_product_id"] is not None and row["suggested_upc"] is not None:
        key = row["suggested_image_key"]
        suggested = SuggestedProduct(
            id=row["suggested_product_id"],
            upc=row["suggested_upc"],
            name=row["suggested_name"],
            image_url=services.blobs.url(key),
            thumb_url=_thumb(services, key),
            score=round(float(row["suggested_share"]), 6),
        )
    return SuspectTile(
        snapshot_id=row["snapshot_id"],
        version=row["version"],
        status=row["status"],
        votes=Votes(row["votes_match"], row["votes_mismatch"]),
        moves=row["moves"],
        qa_first=row["qa_first_at"] is not None,
        suspicion=round(float(row["suspicion"]), 6),
        image_url=services.blobs.url(row["image_key"]),
        thumb_url=_thumb(services, row["image_key"]),
        product=_tile(
            services,
            row["product_id"],
            row["product_upc"],
            row["product_name"],
            row["product_image_key"],
        ),  # fmt: skip
        suggested=suggested,
    )


async def suspects(
    services: Services, *, limit: int, status: str | None, upc: str | None, cursor: str | None
) -> SuspectPage:
    after_suspicion, after_id = _suspect_cursor(cursor)
    rows = await services.db.fetch_all(
        "lead_suspects",
        {"model": await relabel.model(services), "status": status or "",
         "product_id": await product_id(services, upc) if upc else 0,
         "after_suspicion": after_suspicion, "after_id": after_id, "limit": limit + 1},
    )  # fmt: skip
    more = len(rows) > limit
    rows = rows[:limit]
    last = rows[-1] if more else None
    return SuspectPage(
        items=[_suspect(services, row) for row in rows],
        next_cursor=f"{float(last['suspicion'])!r}_{last['snapshot_id']}" if last else None,
    )


# -- products -------------------------------------------------------------------------------


async def search_products(services: Services, q: str, limit: int) -> list[ProductTile]:
    rows = await services.db.fetch_all(
        "lead_search_products", {"q": q.strip().lower(), "limit": limit}
    )
    return [_tile(services, r["id"], r["upc"], r["name"], r["image_key"]) for r in rows]


def _thumbnail(services: Services, row: Row) -> SnapshotThumb:
    return SnapshotThumb(
        snapshot_id=row["id"],
        version=row["version"],
        status=row["status"],
        votes=Votes(row["votes_match"], row["votes_mismatch"]),
        moves=row["moves"],
        reviewed=row["lead_reviewed_at"] is not None,
        qa_first=row["qa_first_at"] is not None,
        image_url=services.blobs.url(row["image_key"]),
        thumb_url=_thumb(services, row["image_key"]),
    )


async def product_view(
    services: Services, upc: str, per_status: int, confusions: int, examples: int
) -> ProductView:
    product = await services.db.fetch_one("lead_product_by_upc", {"upc": upc})
    if product is None:
        raise NotFound(f"no product with UPC {upc}")
    pid = product["id"]
    model = await relabel.model(services)

    def read(session: Any) -> ProductView:
        counts = {
            r["status"]: int(r["n"])
            for r in session.fetch_all("lead_product_status_counts", {"product_id": pid})
        }
        groups = [
            StatusGroup(
                status=status,  # type: ignore[arg-type]
                count=counts.get(status, 0),
                snapshots=[
                    _thumbnail(services, row)
                    for row in session.fetch_all(
                        "lead_product_snapshots",
                        {"product_id": pid, "status": status, "limit": per_status},
                    )
                ],
            )
            for status in STATUSES
        ]
        pairs = []
        for row in session.fetch_all(
            "lead_confusions", {"model": model, "product_id": pid, "limit": confusions}
        ):
            shown = session.fetch_all(
                "lead_confusion_examples",
                {"model": model, "product_id": pid, "other_id": row["other_id"],
                 "limit": examples},
            )  # fmt: skip
            pairs.append(
                Confusion(
                    product=_tile(
                        services, row["other_id"], row["upc"], row["name"], row["image_key"]
                    ),  # fmt: skip
                    snapshots=int(row["snapshots"]),
                    outgoing=int(row["outgoing"] or 0),
                    examples=[
                        ConfusedSnapshot(
                            snapshot_id=e["id"],
                            version=e["version"],
                            product_id=e["product_id"],
                            status=e["status"],
                            suspicion=round(float(e["suspicion"]), 6),
                            thumb_url=_thumb(services, e["image_key"]),
                        )
                        for e in shown
                    ],
                )
            )
        return ProductView(
            product=_tile(services, pid, product["upc"], product["name"], product["image_key"]),
            groups=groups,
            confusions=pairs,
        )

    return await services.db.read(read)


# -- history --------------------------------------------------------------------------------


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
        from_product=_tile(
            services,
            row["from_product_id"],
            row["from_upc"],
            row["from_name"],
            row["from_image_key"],
        ),  # fmt: skip
        to_product=_tile(
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
        thumb_url=_thumb(services, row["image_key"]),
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

"""What the lead's desk reads: suspects, products (search, one product's view); a snapshot's
history and the recent moves are in service/lead/history.py.

Suspects page by a keyset cursor (suspicion, snapshot id), so a tile acted on (it leaves the
list) never shifts the next page. Cursors are opaque strings.
"""

from __future__ import annotations

import re
from typing import Any

from service.catalog.models import Votes
from service.db import Row
from service.errors import InvalidInput, NotFound
from service.lead import relabel
from service.lead.models import (
    ConfusedSnapshot,
    Confusion,
    ProductTile,
    ProductView,
    SnapshotThumb,
    StatusGroup,
    SuggestedProduct,
    SuspectPage,
    SuspectTile,
)
from service.lead.tiles import thumb, tile
from service.services import Services

STATUSES = ("pending", "match", "mismatch")
_SUSPECT_CURSOR = re.compile(r"(-?[0-9.eE+-]{1,32})_([0-9]{1,19})")


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
            thumb_url=thumb(services, key),
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
        thumb_url=thumb(services, row["image_key"]),
        product=tile(
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
    return [tile(services, r["id"], r["upc"], r["name"], r["image_key"]) for r in rows]


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
        thumb_url=thumb(services, row["image_key"]),
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
                    product=tile(
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
                            thumb_url=thumb(services, e["image_key"]),
                        )
                        for e in shown
                    ],
                )
            )
        return ProductView(
            product=tile(services, pid, product["upc"], product["name"], product["image_key"]),
            groups=groups,
            confusions=pairs,
        )

    return await services.db.read(read)

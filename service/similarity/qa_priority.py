"""QA_PRIORITY=suspects: QA sessions get the most suspicious pending snapshots first.

Registered with the QA picker registry (`service.qa.picking.register`) when the similarity
component starts. Snapshots not scored yet come after the scored ones, in random order.
"""

from __future__ import annotations

from service.db import Row, Session
from service.qa.picking import Picker, PickRequest, pick_random, register

PRIORITY = "suspects"


def suspects_picker(model: str) -> Picker:
    def pick(session: Session, request: PickRequest) -> list[Row]:
        rows = session.fetch_all(
            "similarity_pick_suspects",
            {
                "model": model,
                "username": request.username,
                "majority": request.majority,
                "assisted": int(request.assisted),
                "limit": request.limit,
            },
        )
        if len(rows) < request.limit:
            seen = {row["id"] for row in rows}
            for row in pick_random(session, request):
                if len(rows) == request.limit:
                    break
                if row["id"] not in seen:
                    rows.append(row)
                    seen.add(row["id"])
        return rows

    return pick


def register_suspects_picker(model: str) -> None:
    register(PRIORITY, suspects_picker(model))

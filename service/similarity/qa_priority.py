"""QA_PRIORITY=suspects: QA sessions get the most suspicious pending snapshots first.

Registered with the QA picker registry (`service.qa.picking.register`) when the similarity
component starts. Snapshots not scored yet come after the scored ones, in random order.
"""

from __future__ import annotations

from service.db import Row, Session
from service.qa.picking import Picker, PickRequest, pick_random, register
from service.similarity.index import projections

PRIORITY = "suspects"


def suspects_picker(raw_model: str) -> Picker:
    """Ranks by the scores of the projection active when the session is made."""

    def pick(session: Session, request: PickRequest) -> list[Row]:
        active = projections.active(session, raw_model)
        version = int(active["version"]) if active else 0
        rows = session.fetch_all(
            "similarity_pick_suspects",
            {
                "model": projections.projected_model(raw_model, version),
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


def register_suspects_picker(raw_model: str) -> None:
    register(PRIORITY, suspects_picker(raw_model))

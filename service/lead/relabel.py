"""The similarity side of a move, in one place so that it is easy to re-point when the
similarity internals change.

A move changes the snapshot's label at once for everything that reads attributions in SQL
(suggestions weigh neighbours by their current product and status). Its own suspicion score
was taken for the old attribution, so `rescore` scores it again now with the similarity's
function for one snapshot; should that fail, the background rescoring redoes any score
taken under another attribution (`similarity_snapshots_to_score`).

For learning from labels: a lead-confirmed label is a snapshot with `lead_reviewed_at` set
(its current product_id was kept or chosen by a lead), and under QA_TRUST_LEAD also
`settled_by = 'lead'`; every move is a row of `snapshot_moves` (to_product_id, undone_by NULL
while it stands).
"""

from __future__ import annotations

import structlog

from service.services import Services
from service.similarity.index import store
from service.similarity.index.state import current_for
from service.similarity.ranking import suspects

log = structlog.get_logger(__name__)


async def model(services: Services) -> str:
    """The model whose suspicion scores the desk reads (`snapshot_suspicion.model`): the
    active projection's."""
    return (await current_for(services)).model


async def rescore(services: Services, snapshot_id: int) -> bool:
    """Score the snapshot's suspicion for its new attribution; False (logged) if it has no
    embedding yet or scoring failed: the background catch-up scores it then. Never raises."""
    try:
        current = await current_for(services)
        vector = await services.db.read(
            lambda session: store.stored_vector(session, "snapshot", snapshot_id, current.model)
        )
        if vector is None:
            return False
        await suspects.score_snapshot(services, snapshot_id, vector)
    except Exception as exc:
        log.warning("moved snapshot not rescored", snapshot_id=snapshot_id, error=str(exc))
        return False
    return True

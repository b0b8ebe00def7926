"""The similarity side of a move, through the catalog's hooks and QA's scoring model (lead
imports nothing of similarity).

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

from service.catalog import hooks
from service.qa import scoring
from service.services import Services


async def model(services: Services) -> str:
    """The model whose suspicion scores the desk reads (`snapshot_suspicion.model`)."""
    return await scoring.model_name(services)


async def rescore(services: Services, snapshot_id: int) -> None:
    """Tell the catalog's listeners (similarity rescoring its suspicion) that the snapshot's
    attribution changed. Never raises: should a listener fail, its background work redoes
    any score taken under another attribution."""
    await hooks.snapshot_relabelled(services, snapshot_id)

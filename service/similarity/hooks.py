"""Similarity's listeners on the catalog's hooks (registered by `connect`):

    await embed_product(services, product_id, image_bytes)
    await embed_snapshot(services, snapshot_id, image_bytes)   # also scores its suspicion
    await rescore_snapshot(services, snapshot_id)              # its attribution changed

The catalog calls them after the image's row is committed. They never raise: what they
cannot do is logged and left to the background catch-up (`background/worker.py`), which
embeds every stored image that lacks an embedding and rescores any score taken under another
attribution. Store-visit images are embedded by the catch-up alone, never on the job
pipeline's path.
"""

from __future__ import annotations

import asyncio

import numpy as np
import structlog

from service.services import Services
from service.similarity.background.catchup import save
from service.similarity.embedding.decode import embed_bytes
from service.similarity.index import store
from service.similarity.index.state import current_for, similarity_for
from service.similarity.ranking import suspects

log = structlog.get_logger(__name__)


async def _embed_and_save(services: Services, kind: str, id_: int, image: bytes) -> np.ndarray:
    """Embed and store the raw vector and its projection; returns the projected vector."""
    similarity = similarity_for(services)
    raw = await asyncio.to_thread(embed_bytes, similarity.embedder, similarity.max_pixels, image)
    current = await current_for(services)
    await services.db.transaction(
        lambda session: save(session, similarity.dialect, current, kind, {"id": id_}, raw)
    )
    return current.project(raw)


async def embed_product(services: Services, product_id: int, image: bytes) -> bool:
    """Embed a product's reference image; False (logged) if that failed."""
    try:
        await _embed_and_save(services, "product", product_id, image)
    except Exception as exc:
        log.warning("product image not embedded", product_id=product_id, error=str(exc))
        return False
    return True


async def embed_snapshot(services: Services, snapshot_id: int, image: bytes) -> bool:
    """Embed a snapshot and score how suspicious its attribution looks; False if that failed."""
    try:
        vector = await _embed_and_save(services, "snapshot", snapshot_id, image)
        await suspects.score_snapshot(services, snapshot_id, vector)
    except Exception as exc:
        log.warning("snapshot not embedded", snapshot_id=snapshot_id, error=str(exc))
        return False
    return True


async def rescore_snapshot(services: Services, snapshot_id: int) -> bool:
    """Score a snapshot's suspicion again for its new attribution; False (logged) if it has
    no embedding yet or scoring failed."""
    try:
        current = await current_for(services)
        vector = await services.db.read(
            lambda session: store.stored_vector(session, "snapshot", snapshot_id, current.model)
        )
        if vector is None:
            return False
        await suspects.score_snapshot(services, snapshot_id, vector)
    except Exception as exc:
        log.warning("relabelled snapshot not rescored", snapshot_id=snapshot_id, error=str(exc))
        return False
    return True

"""What other features call when they store an image: embed it and write it beside its row.

    await embed_product(services, product_id, image_bytes)
    await embed_snapshot(services, snapshot_id, image_bytes)   # also scores its suspicion
    await embed_job_image(services, job_id, seq, image_bytes)

Call them after the image's row is committed, with the bytes (or an already decoded Pillow
image). They never raise: an image that cannot be embedded is logged and left to the
background catch-up (`worker.py`), which embeds every stored image that lacks an embedding.
"""

from __future__ import annotations

import structlog

from service.services import Services
from service.similarity.index import store
from service.similarity.index.state import similarity_for
from service.similarity.ranking import suspects

log = structlog.get_logger(__name__)


async def _embed_and_save(services: Services, kind: str, key: dict, image: store.ImageInput):
    similarity = similarity_for(services)
    vector = (await store.embed(similarity, [image]))[0]
    await services.db.transaction(
        lambda session: store.save_embedding(session, similarity, kind, key, vector)
    )
    return vector


async def embed_product(services: Services, product_id: int, image: store.ImageInput) -> bool:
    """Embed a product's reference image; False (logged) if that failed."""
    try:
        await _embed_and_save(services, "product", {"id": product_id}, image)
    except Exception as exc:
        log.warning("product image not embedded", product_id=product_id, error=str(exc))
        return False
    return True


async def embed_snapshot(services: Services, snapshot_id: int, image: store.ImageInput) -> bool:
    """Embed a snapshot and score how suspicious its attribution looks; False if that failed."""
    try:
        vector = await _embed_and_save(services, "snapshot", {"id": snapshot_id}, image)
        await suspects.score_snapshot(services, snapshot_id, vector)
    except Exception as exc:
        log.warning("snapshot not embedded", snapshot_id=snapshot_id, error=str(exc))
        return False
    return True


async def embed_job_image(
    services: Services, job_id: int, seq: int, image: store.ImageInput
) -> bool:
    """Embed a stored store-visit image; False (logged) if that failed."""
    try:
        await _embed_and_save(services, "job_image", {"job_id": job_id, "seq": seq}, image)
    except Exception as exc:
        log.warning("job image not embedded", job_id=job_id, seq=seq, error=str(exc))
        return False
    return True

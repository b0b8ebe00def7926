"""The similarity component: registers QA_PRIORITY=suspects and, where this process runs
background work (WORKER_ENABLED), keeps embeddings and suspicion scores complete and fresh.

Each round embeds a batch of every kind of stored image that lacks an embedding (images
stored before the hooks were called, or whose hook failed), then rescores a batch of missing
or stale suspicion scores; it pauses only when a round found nothing to do.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog

from service.db import DatabaseUnavailable
from service.services import Services
from service.similarity.background.catchup import Key, embed_missing
from service.similarity.background.offload import EmbeddingProcess
from service.similarity.index.state import similarity_for
from service.similarity.index.store import KINDS
from service.similarity.qa_priority import register_suspects_picker
from service.similarity.ranking import suspects

log = structlog.get_logger(__name__)

IDLE_PAUSE = 5.0  # seconds between rounds that found nothing to do
BUSY_PAUSE = 0.05  # between busy rounds: leave the CPU to requests now and then


async def run_round(services: Services, skips: dict[str, set[Key]]) -> int:
    """One round of catch-up and rescoring; returns how much work it did.

    `skips` holds, per kind, images that failed since the last idle round; a round that
    finds nothing else to do forgets them, so they are tried again after the idle pause."""
    work = 0
    for kind in KINDS:
        progress = await embed_missing(services, kind, skips.setdefault(kind, set()))
        work += progress.embedded + progress.failed
    work += await suspects.rescore(services)
    if not work:
        for skip in skips.values():
            skip.clear()
    return work


async def _loop(services: Services) -> None:
    skips: dict[str, set[Key]] = {}
    while True:
        try:
            work = await run_round(services, skips)
        except DatabaseUnavailable as exc:  # expected during an outage: one line, no trace
            log.warning("similarity round skipped: database unavailable", error=str(exc))
            work = 0
        except Exception:  # keep going; a bug must not stop embedding for good
            log.exception("similarity round failed")
            work = 0
        await asyncio.sleep(BUSY_PAUSE if work else IDLE_PAUSE)


@asynccontextmanager
async def similarity_component(services: Services) -> AsyncIterator[None]:
    similarity = similarity_for(services)  # fails at start on a bad EMBEDDER
    register_suspects_picker(similarity.model)
    if not (services.settings.worker_enabled and services.primary):
        yield
        return
    settings = services.settings
    similarity.offload = await asyncio.to_thread(
        EmbeddingProcess,
        settings.storage_url,
        settings.embedder,
        settings.model_dir,
        settings.max_image_pixels,
    )
    task = asyncio.create_task(_loop(services), name="similarity-worker")
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        offload, similarity.offload = similarity.offload, None
        await asyncio.to_thread(offload.close)

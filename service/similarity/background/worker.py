"""The similarity component: plugs similarity into the service (`connect`) and, where this
process runs background work (WORKER_ENABLED, the primary process), keeps vectors, the
projection and suspicion scores complete and fresh.

Each round embeds a batch of every kind of stored image that lacks a raw vector, projects
raw vectors the active projection has not seen, refits the projection when the labels have
changed enough (checked at most every REFIT_CHECK seconds, and only in a round that found
nothing to embed), then rescores a batch of missing or stale suspicion scores; it pauses only
when a round found nothing to do.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog

from service.db import DatabaseUnavailable
from service.services import Services
from service.similarity.background.catchup import Key, embed_missing, project_missing
from service.similarity.background.offload import EmbeddingProcess
from service.similarity.background.refit import refit_if_due
from service.similarity.connect import connect
from service.similarity.index.state import current_for, similarity_for
from service.similarity.index.store import KINDS
from service.similarity.ranking import suspects

log = structlog.get_logger(__name__)

IDLE_PAUSE = 5.0  # seconds between rounds that found nothing to do
BUSY_PAUSE = 0.05  # between busy rounds: leave the CPU to requests now and then
REFIT_CHECK = 30.0  # seconds between checks whether the projection is due a refit


class Rounds:
    """The worker's memory between rounds: images that failed (per kind, forgotten after an
    idle round, so they are tried again) and when a refit was last considered."""

    def __init__(self) -> None:
        self.skips: dict[str, set[Key]] = {}
        self.refit_checked = float("-inf")


async def run_round(services: Services, rounds: Rounds) -> int:
    """One round of catch-up, projection, refit and rescoring; returns how much work it did."""
    work = 0
    for kind in KINDS:
        progress = await embed_missing(services, kind, rounds.skips.setdefault(kind, set()))
        work += progress.embedded + progress.failed
    embedding = work > 0
    current = await current_for(services)
    for kind in KINDS:
        work += await project_missing(services, kind, current)
    # Not while a bulk load is being embedded: one fit on all of it, not one per minute of it
    if not embedding and time.monotonic() - rounds.refit_checked >= REFIT_CHECK:
        rounds.refit_checked = time.monotonic()
        work += int(await refit_if_due(services) is not None)
    work += await suspects.rescore(services)
    if not work:
        for skip in rounds.skips.values():
            skip.clear()
    return work


async def _loop(services: Services) -> None:
    rounds = Rounds()
    while True:
        try:
            work = await run_round(services, rounds)
        except DatabaseUnavailable as exc:  # expected during an outage: one line, no trace
            log.warning("similarity round skipped: database unavailable", error=str(exc))
            work = 0
        except Exception:  # keep going; a bug must not stop embedding for good
            log.exception("similarity round failed")
            work = 0
        await asyncio.sleep(BUSY_PAUSE if work else IDLE_PAUSE)


@asynccontextmanager
async def similarity_component(services: Services) -> AsyncIterator[None]:
    similarity_for(services)  # fails at start on a bad EMBEDDER or a network not built
    connect(services)
    if not (services.settings.worker_enabled and services.primary):
        yield
        return
    settings = services.settings
    similarity = similarity_for(services)
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
        await asyncio.to_thread(offload.close)  # type: ignore[union-attr]

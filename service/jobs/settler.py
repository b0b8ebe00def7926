"""Write image results in batches: group commit for the job worker.

A finished image hands its result to the settler and frees its slot at once. One writer task
settles whatever has piled up since its last write in one transaction (compare-and-set per
image, one multi-row insert), so the batch grows by itself with the load: one result a
transaction when idle, dozens under a 2,000-image job. The order stays blob before row: a
result reaches the settler only after its blob is stored.

If the process dies before a result is written, the image's lease expires and another
worker does it again; results are still written once per image.
"""

from __future__ import annotations

import asyncio
import time

import structlog

from service.db import Database, DatabaseUnavailable, LockConflict

from . import repository
from .repository import ImageResult

log = structlog.get_logger(__name__)

MAX_BATCH = 256  # results in one transaction
FIRST_RETRY = 0.25  # seconds before the first retry of a write; doubles up to 5 s


class Settler:
    def __init__(self, db: Database, retry_for: float) -> None:
        self.db = db
        self.retry_for = retry_for  # seconds to keep retrying while the database is down
        self._pending: list[ImageResult] = []
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._closing = False
        self._give_up_at = float("inf")  # set by close()

    def add(self, result: ImageResult) -> None:
        self._pending.append(result)
        self._ready.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="job-settler")

    async def close(self) -> None:
        """Write what is pending, then stop. While the database is down, all of it shares one
        `retry_for` (not one per batch): what is not written by then is redone after its
        lease."""
        self._give_up_at = time.monotonic() + self.retry_for
        self._closing = True
        self._ready.set()
        if self._task is not None:
            await self._task
            self._task = None
        while self._pending:  # never started
            await self._write_next()

    async def _run(self) -> None:
        while not self._closing:
            await self._ready.wait()
            self._ready.clear()
            while self._pending:
                await self._write_next()

    async def _write_next(self) -> None:
        batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
        try:
            firsts = await self._write(batch)
        except Exception as exc:  # not an outage: settle one by one so one bad row stays alone
            log.warning("writing a batch of results failed", size=len(batch), error=str(exc))
            firsts = [await self._write_one(result) for result in batch]
        for result, first in zip(batch, firsts, strict=True):
            if first is False:
                log.info(
                    "image already settled elsewhere",
                    job_id=result.image.job_id,
                    seq=result.image.seq,
                )

    async def _write(self, batch: list[ImageResult]) -> list[bool | None]:
        """Settle a batch; while the database is unreachable (or a lock wait was lost, which
        rolled the batch back), retry for up to `retry_for` s.

        Settling is compare-and-set, so a retry that comes after another worker retook and
        settled an image changes nothing. Giving up leaves the leases to expire and the images
        to be retaken (downloaded again, and counted as another attempt)."""
        pause = FIRST_RETRY
        deadline = min(time.monotonic() + self.retry_for, self._give_up_at)
        while True:
            try:
                return await repository.settle_images(self.db, batch)
            except (DatabaseUnavailable, LockConflict) as exc:
                if time.monotonic() + pause > deadline:
                    log.warning("writing results failed", size=len(batch), error=str(exc))
                    return [None] * len(batch)
                log.warning(
                    "writing results failed; retrying",
                    size=len(batch),
                    error=str(exc),
                    retry_in=pause,
                )
                await asyncio.sleep(pause)
                pause = min(pause * 2, 5.0)

    async def _write_one(self, result: ImageResult) -> bool | None:
        try:
            [first] = await self._write([result])
            return first
        except Exception as exc:  # the lease will expire and the image will be retaken
            image = result.image
            log.warning(
                "writing an image result failed", job_id=image.job_id, seq=image.seq, error=str(exc)
            )
            return None

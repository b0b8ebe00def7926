"""The job worker: one loop per process claims images with a lease and runs each one (see
`processing`). JOB_CONCURRENCY GPU slots bound the simulated GPU step; a quarter more images
may be in flight, downloading and storing ahead, so a freed GPU slot never waits.

The loop claims only as many images as it has room for in flight, so little waits in memory
while a newer job's first image is due: claim order (`sched`) interleaves jobs, and a 1-image
job submitted behind a 10,000-image one is claimed as soon as room frees. Results go to the
`Settler`, which writes them in batches. A crashed process's leases expire and its images
are claimed again; results are written once.
"""

from __future__ import annotations

import asyncio
import os
import random
import socket
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress

import structlog

from service.clock import Clock, utcnow
from service.services import Services

from . import repository
from .fetcher import SafeFetcher
from .processing import ImageProcessor
from .repository import ClaimedImage
from .settler import Settler

log = structlog.get_logger(__name__)

CLAIM_BATCH = 16  # most images claimed in one transaction
IDLE_POLL_SECONDS = 0.1  # how often an idle worker looks (a read) for work others submitted

_workers: weakref.WeakSet[JobWorker] = weakref.WeakSet()


def prefetch(concurrency: int) -> int:
    """Images claimed beyond the GPU slots, so a freed slot never waits for a download."""
    return max(1, concurrency // 4)


def notify_new_work() -> None:
    """Wake this process's idle workers (a job was just submitted here)."""
    for worker in list(_workers):
        worker.wake()


class JobWorker:
    def __init__(self, services: Services, owner: str | None = None, clock: Clock = utcnow) -> None:
        settings = services.settings
        self.services = services
        self.clock = clock  # lease times: tests move it instead of waiting out a lease
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.concurrency = settings.job_concurrency
        self.lease_seconds = settings.lease_seconds
        # GPU slots bound the simulated GPU step; images in flight may exceed them by a
        # quarter, downloading and storing while they wait (see `processing`).
        self.gpu = asyncio.Semaphore(settings.job_concurrency)
        self.fetcher = SafeFetcher.for_settings(settings)  # only this worker downloads
        self.slots = asyncio.Semaphore(
            settings.job_concurrency + prefetch(settings.job_concurrency)
        )
        self.processor = ImageProcessor(
            fetcher=self.fetcher,
            blobs=services.blobs,
            max_pixels=settings.max_image_pixels,
            delay=settings.processing_delay,
            deadline=settings.lease_seconds * 0.8,
            worker=self.owner,
            rng=random.Random(),
            gpu=self.gpu,
        )
        self.settler = Settler(services.db, retry_for=settings.lease_seconds)
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._in_flight: set[asyncio.Task[None]] = set()
        self._loop_task: asyncio.Task[None] | None = None
        self._claim: asyncio.Future[list[ClaimedImage]] | None = None

    def wake(self) -> None:
        self._wakeup.set()

    async def _idle(self, seconds: float) -> None:
        with suppress(TimeoutError):
            await asyncio.wait_for(self._wakeup.wait(), seconds)
        self._wakeup.clear()

    async def _take_slots(self) -> int:
        """Wait for one free slot, then take whatever else is free, up to a batch."""
        await self.slots.acquire()
        taken = 1
        while taken < CLAIM_BATCH and not self.slots.locked():
            await self.slots.acquire()  # free: returns at once
            taken += 1
        return taken

    def _claiming(self) -> bool:
        return not (self._stopping or self.services.stopping.is_set())

    async def run(self) -> None:
        backoff = 0.5
        while self._claiming():
            slots = await self._take_slots()
            if not self._claiming():  # the process began to stop while we waited for a slot
                for _ in range(slots):
                    self.slots.release()
                break
            # Shielded: a stop that cancels this loop must not abandon a claim the database is
            # committing; stop() waits for it before it releases this worker's leases.
            self._claim = asyncio.ensure_future(
                repository.claim_images(
                    self.services.db, self.owner, slots, self.lease_seconds, self.clock
                )
            )
            try:
                claimed = await asyncio.shield(self._claim)
            except Exception as exc:  # database down: keep the slots free and retry later
                for _ in range(slots):
                    self.slots.release()
                log.warning("claiming images failed", error=str(exc), retry_in=backoff)
                await self._idle(backoff)
                backoff = min(backoff * 2, 10.0)
                continue
            backoff = 0.5
            if not self._claiming():  # stopping began during the claim: stop() hands them back
                for _ in range(slots):
                    self.slots.release()
                break
            for _ in range(slots - len(claimed)):
                self.slots.release()
            for image in claimed:
                task = asyncio.create_task(self._handle(image))
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            if not claimed:
                await self._wait_for_work()

    async def _wait_for_work(self) -> None:
        """Return when a job was submitted here, or a poll (a read: no write lock taken) finds
        claimable images that another process's submit or an expired lease left."""
        while self._claiming():
            if self._wakeup.is_set():
                self._wakeup.clear()
                return
            await self._idle(IDLE_POLL_SECONDS)
            try:
                if await repository.has_claimable(self.services.db, self.clock):
                    return
            except Exception:  # the claim that follows says what is wrong, with backoff
                return

    async def _handle(self, image: ClaimedImage) -> None:
        try:
            result = self.processor.settle_without_work(image)
            if result is None:
                result = await self.processor.process(image)
            self.settler.add(result)  # written in the next batch; the slot is free now
        except Exception:  # a bug, not a bad image: the lease expires and the image is retaken
            log.exception("processing an image crashed", job_id=image.job_id, seq=image.seq)
        finally:
            self.slots.release()

    def start(self) -> None:
        _workers.add(self)
        self.settler.start()
        self._loop_task = asyncio.create_task(self.run(), name="job-worker")
        log.info("job worker started", owner=self.owner, concurrency=self.concurrency)

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming, let in-flight images finish for `grace` s (default SHUTDOWN_GRACE),
        release the rest."""
        grace = self.services.settings.shutdown_grace if grace is None else grace
        self._stopping = True
        _workers.discard(self)
        if self._loop_task is not None:
            self._loop_task.cancel()
            await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._claim is not None:  # a claim in flight commits before leases are released
            await asyncio.gather(self._claim, return_exceptions=True)
        if self._in_flight:
            _, unfinished = await asyncio.wait(set(self._in_flight), timeout=grace)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
        await self.settler.close()  # before releasing: a written image needs no retake
        try:
            released = await repository.release_leases(self.services.db, self.owner)
        except Exception as exc:  # they expire on their own
            log.warning("releasing leases failed", error=str(exc))
            released = 0
        await self.fetcher.close()
        log.info("job worker stopped", owner=self.owner, released=released)


@asynccontextmanager
async def job_worker(services: Services) -> AsyncIterator[JobWorker]:
    """The app component: a worker running for as long as the app serves."""
    worker = JobWorker(services)
    worker.start()
    try:
        yield worker
    finally:
        await worker.stop()

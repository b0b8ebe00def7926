"""One image, start to finish: fetch, measure, store the bytes, then the simulated GPU step.

The GPU step (PROCESSING_DELAY) is the scarce resource: `gpu` lets JOB_CONCURRENCY images
through at once, and only for the delay itself. Downloading and storing happen before an
image asks for a GPU slot, so a slot that frees is taken at once by an image that is ready,
the way a real pipeline keeps its accelerator fed. The bytes are let go once stored, so an
image waiting for the GPU holds no memory. Every failure becomes a failed result with a
reason; nothing here raises for a bad image.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass

from service.clock import utcnow
from service.imaging import BudgetExhausted, decode_reserved
from service.storage import BlobStore
from service.storage.base import BlobError

from .fetcher import FetchError, SafeFetcher
from .imaging import Decoded, DecodeError, described, read_header, verify
from .repository import ClaimedImage, ImageResult
from .states import UNKNOWN_STORE

MAX_ATTEMPTS = 3  # an image whose processing killed the worker this often is given up


@dataclass
class ImageProcessor:
    fetcher: SafeFetcher
    blobs: BlobStore
    max_pixels: int
    delay: tuple[float, float]
    deadline: float  # seconds; below the lease so an image never outlives its claim
    worker: str
    rng: random.Random
    gpu: asyncio.Semaphore | None = None  # the GPU step's slots; None: unbounded

    def _result(self, image: ClaimedImage, status: str, started: object, **fields: object):
        return ImageResult(
            image=image,
            status=status,
            started_at=started,  # type: ignore[arg-type]
            finished_at=utcnow(),
            worker=self.worker,
            **fields,  # type: ignore[arg-type]
        )

    def settle_without_work(self, image: ClaimedImage) -> ImageResult | None:
        """Images that fail before any download: unknown store, too many attempts."""
        now = utcnow()
        if not image.store_known:
            return self._result(image, "failed", now, error=UNKNOWN_STORE)
        if image.attempt > MAX_ATTEMPTS:
            return self._result(
                image,
                "failed",
                now,
                error=f"gave up after {MAX_ATTEMPTS} attempts: processing stopped midway "
                f"each time for {image.url}",
            )
        return None

    async def _measure(self, data: bytes) -> Decoded:
        """The header, then proof that the data holds that picture (`jobs.imaging`), in
        threads: the header walk is capped, but the decode takes milliseconds. The decode
        waits for room in the process's pixel budget, within the image's deadline."""
        header = await asyncio.to_thread(read_header, data, self.max_pixels)
        await decode_reserved(header.decode_pixels, verify, data, header, timeout=self.deadline)
        return described(header)

    async def _delay(self) -> None:
        """The simulated GPU step: PROCESSING_DELAY seconds (uniform in its range)."""
        low, high = self.delay
        pause = self.rng.uniform(low, high) if high > 0 else 0.0
        if pause > 0:
            await asyncio.sleep(pause)

    async def process(self, image: ClaimedImage) -> ImageResult:
        started = utcnow()
        timings: dict[str, float] = {}
        clock = time.perf_counter()

        def lap(name: str) -> None:
            nonlocal clock
            now = time.perf_counter()
            timings[name] = round((now - clock) * 1000, 3)
            clock = now

        try:
            async with asyncio.timeout(self.deadline):
                fetched = await self.fetcher.fetch(image.url)
                lap("download_ms")
                decoded = await self._measure(fetched.data)
                lap("decode_ms")
                size = len(fetched.data)
                key = await asyncio.to_thread(
                    self.blobs.put, fetched.data, decoded.extension, decoded.content_type
                )
                del fetched  # stored: not held while waiting for the GPU
                lap("store_ms")
                async with self.gpu or contextlib.nullcontext():
                    clock = time.perf_counter()  # delay_ms is the GPU step, not the wait
                    await self._delay()
                    lap("delay_ms")
        except FetchError as exc:
            return self._result(image, "failed", started, error=str(exc), **timings)
        except DecodeError as exc:
            return self._result(
                image,
                "failed",
                started,
                error=f"image could not be decoded: {exc} ({image.url})",
                **timings,
            )
        except BlobError as exc:
            return self._result(
                image, "failed", started, error=f"image could not be stored: {exc}", **timings
            )
        except BudgetExhausted as exc:  # the deadline's own time-out usually comes first
            return self._result(
                image, "failed", started, error=f"image could not be decoded: {exc}", **timings
            )
        except TimeoutError:
            return self._result(
                image,
                "failed",
                started,
                error=f"image processing timed out after {self.deadline:g} s for {image.url}",
                **timings,
            )
        return self._result(
            image,
            "done",
            started,
            width=decoded.width,
            height=decoded.height,
            perimeter=decoded.perimeter,
            blob_key=key,
            content_type=decoded.content_type,
            byte_size=size,
            **timings,
        )

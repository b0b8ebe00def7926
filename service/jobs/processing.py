"""One image, start to finish: fetch, measure, then store the bytes during the simulated GPU
delay.

The bytes are stored while the delay runs, so they are let go after a few milliseconds rather
than held for the whole delay (64 slots of 3 MB phone photos would otherwise sit in RAM), and
the slot is held for the longer of the two, not their sum. Every failure becomes a failed
result with a reason; nothing here raises for a bad image.
"""

from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass

from service.clock import utcnow
from service.storage import BlobStore
from service.storage.base import BlobError

from .fetcher import FetchError, SafeFetcher
from .imaging import Decoded, DecodeError, measure
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
        """Header and end checks take microseconds: on the loop. A GIF is decoded: a thread."""
        if data[:3] == b"GIF":
            return await asyncio.to_thread(measure, data, self.max_pixels)
        return measure(data, self.max_pixels)

    async def _store(self, data: bytes, decoded: Decoded) -> tuple[str, float]:
        """The blob's key, and the milliseconds storing it took."""

        def put() -> tuple[str, float]:
            started = time.perf_counter()
            key = self.blobs.put(data, decoded.extension, decoded.content_type)
            return key, round((time.perf_counter() - started) * 1000, 3)

        return await asyncio.to_thread(put)

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
                # Store while the "GPU" works: the slot is held for the longer of the two, not
                # their sum; the bytes are let go as soon as they are stored.
                storing = asyncio.ensure_future(self._store(fetched.data, decoded))
                del fetched  # only the store holds the bytes now
                (key, store_ms), _ = await asyncio.gather(storing, self._delay())
                timings["store_ms"] = store_ms
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

"""Opening untrusted image bytes, shared by uploads, job downloads and embedding, and the one
pixel budget every decode in a process draws from.

Only the formats browsers display are parsed (Pillow's other decoders never see our input),
and the pixel count is checked from the header before any pixel is decoded. The limit is
ours (MAX_IMAGE_PIXELS, capped at Pillow's own default) rather than the process-wide
`Image.MAX_IMAGE_PIXELS`, and no warning filters are touched: they are process-wide too.
Headers are walked with a hard cap first (`service.image_headers`), so a file of a million
tiny segments fails at once instead of holding the GIL for seconds.

**The pixel budget.** Decoded pixels, not file bytes, are what fill memory: a 190 KB PNG can
decode to 49 million pixels. So every decode reserves its pixels from this process's
`PixelBudget` first and gives them back when the decoded image is dropped:

    with pixel_budget().reserve(width * height, timeout):          # threads, processes
        image.load()
    async with pixel_budget().reserve_async(width * height, timeout):   # on the event loop
        await asyncio.to_thread(decode, data)

A reservation that does not fit waits (first come, first served) until others give theirs
back; after `timeout` seconds it raises `BudgetExhausted`, which HTTP answers as 503 with
`Retry-After`. A reservation larger than the whole budget waits until it is the only one.
At most `PIXEL_BUDGET` pixels are therefore decoded at once per process, whatever the
number of requests, jobs or embeddings in flight. Never reserve again while holding a
reservation: the second could wait for the first forever.

Coroutines use `decode_reserved(pixels, fn, *args)`: it awaits the reservation, then runs the
decode on threads of its own. Not on asyncio's default threads: a thread there may be
blocked in `reserve`, waiting for pixels that only this decode can give back.
"""

from __future__ import annotations

import asyncio
import ctypes
import io
import math
import threading
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from PIL import Image

from service.image_headers import check_header

# Pillow format name -> (file extension, content type).
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
FORMAT_NAMES = "JPEG, PNG, WebP or GIF"
# Bytes of memory one budgeted pixel may cost at the peak of a decode: Pillow keeps RGB and
# RGBA at 4 bytes a pixel, and a conversion holds the source and the result at once.
BYTES_PER_PIXEL = 8
DEFAULT_PIXEL_BUDGET = 64_000_000
DEFAULT_PIXEL_WAIT = 10.0
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
DECODE_THREADS = 4  # Pillow's decoders let go of the GIL: a few run at once on the cores
T = TypeVar("T")


def format_of(image: Image.Image) -> str:
    """The FORMATS name of an opened image. Pillow calls a JPEG with a multi-picture (MPF)
    header, as many phones write them, "MPO": it is a JPEG file all the same."""
    name = image.format or ""
    return "JPEG" if name == "MPO" else name


class TooManyPixels(ValueError):
    """The header announces more pixels than the limit."""

    def __init__(self, width: int, height: int, limit: int) -> None:
        super().__init__(f"{width}x{height} is more than {limit} pixels (MAX_IMAGE_PIXELS)")
        self.width, self.height, self.limit = width, height, limit


def open_image(data: bytes | bytearray, max_pixels: int) -> Image.Image:
    """Open `data` (header only) as one of FORMATS; the caller decodes and closes it.

    Raises `HeaderTooComplex` (a ValueError) for a header past the walk's caps,
    `PIL.UnidentifiedImageError` for any other format and `TooManyPixels` when the image is
    larger than `max_pixels`.
    """
    check_header(data)
    image = Image.open(io.BytesIO(data), formats=tuple(FORMATS))
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise TooManyPixels(width, height, max_pixels)
    return image


# -- the pixel budget -----------------------------------------------------------------------


class BudgetExhausted(Exception):
    """A decode waited `waited` seconds for room in the pixel budget and got none: the process
    is decoding as much as it may. Retry after `retry_after` seconds."""

    def __init__(self, pixels: int, capacity: int, waited: float) -> None:
        super().__init__(
            f"busy decoding other images: {pixels} pixels did not fit in the budget of "
            f"{capacity} (PIXEL_BUDGET) within {waited:g} s"
        )
        self.retry_after = max(1, math.ceil(waited))


@dataclass(eq=False)
class _Waiter:
    cost: int
    wake: threading.Event | None = None  # a thread's
    future: asyncio.Future[None] | None = None  # a coroutine's
    loop: asyncio.AbstractEventLoop | None = None
    admitted: bool = field(default=False)


class PixelBudget:
    """At most `capacity` pixels reserved at once, shared by threads and coroutines."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("a pixel budget needs a capacity of at least 1")
        self.capacity = capacity
        self._in_use = 0
        self._lock = threading.Lock()
        self._queue: deque[_Waiter] = deque()

    @property
    def in_use(self) -> int:
        return self._in_use

    def _cost(self, pixels: int) -> int:
        return min(max(int(pixels), 0), self.capacity)

    def _enter(self, waiter: _Waiter) -> bool:
        """Take the pixels now if nobody is queued before us and they fit; else queue."""
        with self._lock:
            if not self._queue and self._in_use + waiter.cost <= self.capacity:
                self._in_use += waiter.cost
                waiter.admitted = True
                return True
            self._queue.append(waiter)
            return False

    def _give_up(self, waiter: _Waiter) -> bool:
        """Leave the queue after a time-out; False if admitted meanwhile (then keep it)."""
        with self._lock:
            if waiter.admitted:
                return False
            self._queue.remove(waiter)
            admitted = self._admit_locked()  # the head may have been waiting behind us
        _wake(admitted)
        return True

    def _release(self, cost: int) -> None:
        with self._lock:
            self._in_use -= cost
            admitted = self._admit_locked()
        _wake(admitted)

    def _admit_locked(self) -> list[_Waiter]:
        admitted = []
        while self._queue and self._in_use + self._queue[0].cost <= self.capacity:
            waiter = self._queue.popleft()
            self._in_use += waiter.cost
            waiter.admitted = True
            admitted.append(waiter)
        return admitted

    @contextmanager
    def reserve(self, pixels: int, timeout: float) -> Iterator[None]:
        """Hold `pixels` of the budget for the block, waiting up to `timeout` s for them
        (BudgetExhausted after that). Blocks the calling thread while it waits."""
        waiter = _Waiter(self._cost(pixels), wake=threading.Event())
        if not self._enter(waiter):
            assert waiter.wake is not None
            if not waiter.wake.wait(timeout) and self._give_up(waiter):
                raise BudgetExhausted(pixels, self.capacity, timeout)
        try:
            yield
        finally:
            self._release(waiter.cost)

    @asynccontextmanager
    async def reserve_async(self, pixels: int, timeout: float) -> AsyncIterator[None]:
        """`reserve` for coroutines: the wait suspends the task, not a thread."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(self._cost(pixels), future=loop.create_future(), loop=loop)
        if not self._enter(waiter):
            assert waiter.future is not None
            try:
                await asyncio.wait_for(asyncio.shield(waiter.future), timeout)
            except TimeoutError:
                if self._give_up(waiter):
                    raise BudgetExhausted(pixels, self.capacity, timeout) from None
                # admitted just as the wait ran out: the pixels are ours, go on
            except BaseException:  # cancelled while waiting: leave no pixels behind
                if not self._give_up(waiter):
                    self._release(waiter.cost)
                raise
        try:
            yield
        finally:
            self._release(waiter.cost)


def _wake(waiters: list[_Waiter]) -> None:
    for waiter in waiters:
        if waiter.wake is not None:
            waiter.wake.set()
        elif waiter.loop is not None and waiter.future is not None:
            waiter.loop.call_soon_threadsafe(_resolve, waiter.future)


def _resolve(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


_budget = PixelBudget(DEFAULT_PIXEL_BUDGET)
_wait = DEFAULT_PIXEL_WAIT


_decoders = ThreadPoolExecutor(max_workers=DECODE_THREADS, thread_name_prefix="decode")


async def decode_reserved(
    pixels: int, fn: Callable[..., T], *args: Any, timeout: float | None = None
) -> T:
    """Await `pixels` of this process's budget (up to `timeout`, default PIXEL_WAIT), then run
    `fn(*args)` on the decode threads and give the pixels back when it returns."""
    wait = pixel_wait() if timeout is None else timeout
    async with pixel_budget().reserve_async(pixels, wait):
        return await asyncio.get_running_loop().run_in_executor(_decoders, fn, *args)


def pixel_budget() -> PixelBudget:
    """This process's budget (see the module's docstring)."""
    return _budget


def pixel_wait() -> float:
    """How long a decode waits for room in the budget (PIXEL_WAIT), in seconds."""
    return _wait


def return_big_allocations(threshold: int = 1 << 20) -> bool:
    """Have glibc map every allocation of `threshold` bytes or more on its own, so that a
    decoded image's blocks and a download's buffer go back to the system when freed.

    By default glibc raises its mmap threshold to the size of the last big block freed (up
    to 32 MiB), after which such blocks come from the heap and stay with the process: a
    burst of big decodes then leaves gigabytes behind. False where there is no glibc."""
    try:
        libc = ctypes.CDLL(None)
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, threshold))


def configure_pixel_budget(capacity: int, wait: float = DEFAULT_PIXEL_WAIT) -> PixelBudget:
    """Size this process's budget (PIXEL_BUDGET, PIXEL_WAIT); at start, before any decode."""
    global _budget, _wait
    if _budget.capacity != capacity:
        _budget = PixelBudget(capacity)
    _wait = wait
    return _budget

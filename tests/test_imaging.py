"""Untrusted bytes only ever reach the decoders of the formats we serve, after a capped
header walk; every decode draws from one pixel budget per process."""

import asyncio
import io
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import BmpImagePlugin, Image, UnidentifiedImageError

from service.image_headers import HeaderTooComplex
from service.imaging import (
    DEFAULT_PIXEL_BUDGET,
    BudgetExhausted,
    PixelBudget,
    TooManyPixels,
    configure_pixel_budget,
    decode_reserved,
    open_image,
)
from tests import hostile_images as hostile


def _bytes(fmt: str, size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, fmt)
    return buffer.getvalue()


def test_other_formats_are_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_run(self: object) -> None:
        raise AssertionError("the BMP decoder parsed untrusted input")

    monkeypatch.setattr(BmpImagePlugin.BmpImageFile, "_open", must_not_run)
    with pytest.raises(UnidentifiedImageError):
        open_image(_bytes("BMP"), 1_000)


def test_pixel_limit_is_checked_from_the_header() -> None:
    with open_image(_bytes("PNG", (8, 6)), 48) as image:
        assert image.size == (8, 6)
    with pytest.raises(TooManyPixels, match="8x6 is more than 47 pixels"):
        open_image(_bytes("PNG", (8, 6)), 47)


# -- the pixel budget -----------------------------------------------------------------------
def test_a_reservation_that_does_not_fit_waits_then_gives_up() -> None:
    budget = PixelBudget(100)
    with budget.reserve(70, timeout=0):
        assert budget.in_use == 70
        with (
            pytest.raises(
                BudgetExhausted, match="40 pixels did not fit in the budget of 100"
            ) as caught,
            budget.reserve(40, timeout=0.01),
        ):
            pass
        assert caught.value.retry_after == 1
        with budget.reserve(30, timeout=0):  # what fits goes at once
            assert budget.in_use == 100
    assert budget.in_use == 0


def test_a_waiting_thread_gets_its_turn_when_pixels_come_back() -> None:
    budget = PixelBudget(100)
    started, got = threading.Event(), threading.Event()

    def wait_for_all() -> None:
        started.set()
        with budget.reserve(100, timeout=60):
            got.set()

    with budget.reserve(60, timeout=0):
        thread = threading.Thread(target=wait_for_all)
        thread.start()
        assert started.wait(60)
        assert not got.is_set()
    assert got.wait(60)
    thread.join(60)
    assert budget.in_use == 0


def test_more_than_the_whole_budget_waits_to_be_alone() -> None:
    budget = PixelBudget(100)
    with budget.reserve(10**9, timeout=0):  # counted as the whole budget
        assert budget.in_use == 100
    with budget.reserve(5, timeout=0), pytest.raises(BudgetExhausted), budget.reserve(10**9, 0.01):
        pass


def test_first_come_first_served_so_a_big_decode_is_not_starved() -> None:
    async def main() -> list[str]:
        budget = PixelBudget(100)
        order: list[str] = []

        async def take(name: str, pixels: int) -> None:
            async with budget.reserve_async(pixels, timeout=60):
                order.append(name)

        async with budget.reserve_async(60, timeout=0):
            big = asyncio.create_task(take("big", 90))
            await asyncio.sleep(0)
            small = asyncio.create_task(take("small", 10))  # fits now, but the big one was first
            await asyncio.sleep(0)
            assert order == []
        await asyncio.gather(big, small)
        assert budget.in_use == 0
        return order

    assert asyncio.run(main()) == ["big", "small"]


def test_an_async_wait_times_out_or_is_cancelled_without_leaking_pixels() -> None:
    async def main() -> None:
        budget = PixelBudget(100)
        async with budget.reserve_async(100, timeout=0):
            with pytest.raises(BudgetExhausted):
                async with budget.reserve_async(1, timeout=0.01):
                    pass
            waiting = asyncio.create_task(budget.reserve_async(1, timeout=60).__aenter__())
            await asyncio.sleep(0)
            waiting.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiting
        assert budget.in_use == 0
        async with budget.reserve_async(100, timeout=0):  # nobody left queued in the way
            assert budget.in_use == 100

    asyncio.run(main())


def test_threads_and_coroutines_share_one_budget() -> None:
    async def main() -> None:
        budget = PixelBudget(100)
        release = threading.Event()
        held = threading.Event()

        def hold() -> None:
            with budget.reserve(100, timeout=0):
                held.set()
                release.wait(60)

        thread = threading.Thread(target=hold)
        thread.start()
        assert held.wait(60)
        reservation = budget.reserve_async(50, timeout=60)
        waiting = asyncio.create_task(reservation.__aenter__())
        await asyncio.sleep(0.01)
        assert not waiting.done()
        release.set()
        await asyncio.wait_for(waiting, 60)
        assert budget.in_use == 50
        await reservation.__aexit__(None, None, None)
        assert budget.in_use == 0
        thread.join(60)

    asyncio.run(main())


def test_the_headers_are_walked_with_a_cap_before_pillow_parses_them() -> None:
    with pytest.raises(HeaderTooComplex, match="more than 1000 JPEG segments"):
        open_image(hostile.jpeg_many_segments(5_000_000 // 4), 10_000)


def test_a_reserved_decode_runs_even_when_waiting_threads_fill_the_default_pool() -> None:
    """A coroutine admitted ahead of threads blocked in `reserve` must not need one of those
    threads to run its decode (that was a deadlock until the waiters timed out)."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        loop.set_default_executor(ThreadPoolExecutor(max_workers=2))
        budget = configure_pixel_budget(100, wait=60)
        holder = budget.reserve(100, timeout=0)
        holder.__enter__()
        decode = asyncio.create_task(decode_reserved(100, lambda: "decoded"))
        await asyncio.sleep(0.01)  # queued first
        waiting = [loop.run_in_executor(None, _hold_briefly, budget) for _ in range(2)]
        await asyncio.sleep(0.05)  # both default threads now wait behind the decode
        holder.__exit__(None, None, None)
        assert await asyncio.wait_for(decode, 30) == "decoded"  # a deadline, not a timing
        await asyncio.wait_for(asyncio.gather(*waiting), 30)
        assert budget.in_use == 0

    try:
        asyncio.run(main())
    finally:
        configure_pixel_budget(DEFAULT_PIXEL_BUDGET)


def _hold_briefly(budget: PixelBudget) -> None:
    with budget.reserve(100, timeout=60):
        pass

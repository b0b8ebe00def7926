"""The settler: results written in batches (group commit), retried through a lost lock or an
outage, one bad row kept alone, and nothing pending lost on close."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime

import pytest

from service.db import DatabaseError, DatabaseUnavailable, LockConflict
from service.jobs import repository, settler
from service.jobs.repository import ClaimedImage, ImageResult

NOW = datetime(2026, 11, 29)


def result(seq: int) -> ImageResult:
    image = ClaimedImage(1, seq, 0, f"http://a/{seq}.png", 1, "RP00001", NOW, True)
    return ImageResult(image=image, status="done", started_at=NOW, finished_at=NOW, worker="w")


class FakeWrites:
    """Stands in for repository.settle_images: records each batch, fails as told."""

    def __init__(self, failures: Sequence[Exception] = (), bad_seq: int | None = None) -> None:
        self.failures = list(failures)
        self.bad_seq = bad_seq
        self.batches: list[list[int]] = []
        self.all_added: asyncio.Event | None = None  # set by `settle` once every result is in

    async def __call__(self, db: object, results: Sequence[ImageResult]) -> list[bool]:
        # A transaction takes a while: results pile up meanwhile. It lasts until the last
        # result arrived (not a guessed 10 ms), so the batching is the same on a busy machine.
        assert self.all_added is not None
        await self.all_added.wait()
        seqs = [r.image.seq for r in results]
        if self.failures:
            raise self.failures.pop(0)
        if self.bad_seq in seqs:
            raise DatabaseError("a row the database refuses")
        self.batches.append(seqs)
        return [True] * len(results)

    @property
    def written(self) -> list[int]:
        return sorted(seq for batch in self.batches for seq in batch)


def settle(writes: FakeWrites, count: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(repository, "settle_images", writes)

    async def go() -> None:
        writes.all_added = asyncio.Event()
        writer = settler.Settler(db=None, retry_for=5)  # type: ignore[arg-type]
        writer.start()
        for seq in range(count):
            writer.add(result(seq))
            if seq % 10 == 0:
                await asyncio.sleep(0)  # results arrive over time, not all at once
        writes.all_added.set()
        await writer.close()

    asyncio.run(go())


def test_results_that_arrive_during_a_write_go_in_the_next_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes = FakeWrites()
    settle(writes, 200, monkeypatch)
    assert writes.written == list(range(200))  # each once, none lost on close
    # The first result's write was under way while the other 199 arrived: one more batch.
    assert [len(batch) for batch in writes.batches] == [1, 199]


@pytest.mark.parametrize("failure", [LockConflict("1205"), DatabaseUnavailable("gone")])
def test_a_lost_lock_or_an_outage_is_retried(
    failure: Exception, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(settler, "FIRST_RETRY", 0.01)
    writes = FakeWrites(failures=[failure, failure])
    settle(writes, 30, monkeypatch)
    assert writes.written == list(range(30))


def test_a_row_the_database_refuses_does_not_sink_its_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    writes = FakeWrites(bad_seq=7)
    settle(writes, 30, monkeypatch)
    assert writes.written == [seq for seq in range(30) if seq != 7]

"""The async facade handlers use, on both engines."""

from __future__ import annotations

import asyncio
import threading

import pytest

from service.db import Database, Engine, IntegrityError, Result, Session


def item(name: str, qty: int = 1) -> dict[str, object]:
    return {"name": name, "qty": qty, "created_at": None, "day": None, "vec": None}


def test_facade_methods(engine: Engine) -> None:
    async def scenario() -> None:
        db = Database(engine, threads=4)
        result = await db.execute("insert_item", item("one"))
        assert isinstance(result, Result) and result.rowcount == 1 and result.lastrowid
        assert await db.execute_many("insert_item", (item(f"n{i}") for i in range(3))) == 3
        assert await db.fetch_value("item_count") == 4
        assert [r["name"] for r in await db.fetch_all("item_names")] == ["n0", "n1", "n2", "one"]
        row = await db.fetch_one("item_by_name", {"name": "one"})
        assert row is not None and row["id"] == result.lastrowid

        def move(session: Session) -> int:
            session.execute("delete_item", {"name": "one"})
            session.execute("insert_item", item("two", qty=2))
            return session.fetch_value("item_count")

        assert await db.transaction(move) == 4
        count, names = await db.read(
            lambda s: (s.fetch_value("item_count"), [r["name"] for r in s.fetch_all("item_names")])
        )
        assert (count, names) == (4, ["n0", "n1", "n2", "two"])  # the transaction committed
        with pytest.raises(IntegrityError):
            await db.execute("insert_item", item("two"))
        await db.ping()
        db.close()

    asyncio.run(scenario())


def test_work_runs_off_the_event_loop(engine: Engine) -> None:
    """Calls run on worker threads, so the loop stays free and calls overlap."""
    loop_threads: set[int] = set()
    work_threads: set[int] = set()

    def work(session: Session) -> int:
        work_threads.add(threading.get_ident())
        return session.fetch_value("item_count")

    async def scenario() -> list[int]:
        loop_threads.add(threading.get_ident())
        db = Database(engine, threads=4)
        try:
            return await asyncio.gather(*(db.read(work) for _ in range(20)))
        finally:
            db.close()

    assert asyncio.run(scenario()) == [0] * 20
    assert work_threads and not work_threads & loop_threads

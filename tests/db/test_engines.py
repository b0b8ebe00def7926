"""Behaviour both engines share, each scenario run on SQLite and on MariaDB (for SingleStore)."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from service.db import Engine, IntegrityError, QueryError, Result, Session

NOON = datetime(2024, 5, 6, 12, 30, 15, 123456)


def item(name: str, qty: int = 1, **extra: object) -> dict[str, object]:
    return {"name": name, "qty": qty, "created_at": None, "day": None, "vec": None} | extra


def names(engine: Engine) -> list[str]:
    return [row["name"] for row in engine.read(lambda s: s.fetch_all("item_names"))]


def test_dialect_override_wins(engine: Engine) -> None:
    assert engine.read(lambda s: s.fetch_value("dialect")) == engine.queries.dialect


def test_execute_returns_rowcount_and_lastrowid(engine: Engine) -> None:
    first = engine.write(lambda s: s.execute("insert_item", item("apple")))
    second = engine.write(lambda s: s.execute("insert_item", item("pear")))
    assert first.rowcount == second.rowcount == 1
    assert first.lastrowid is not None and second.lastrowid is not None
    assert first.lastrowid != second.lastrowid
    row = engine.read(lambda s: s.fetch_one("item_by_name", {"name": "pear"}))
    assert row is not None and row["id"] == second.lastrowid
    # Only an INSERT has a row id: an UPDATE or DELETE reports none.
    update = engine.write(lambda s: s.execute("set_qty", {"name": "pear", "qty": 5}))
    assert update == Result(rowcount=1, lastrowid=None)
    delete = engine.write(lambda s: s.execute("delete_item", {"name": "nothing"}))
    assert delete == Result(rowcount=0, lastrowid=None)


def test_fetch_shapes(engine: Engine) -> None:
    engine.write(lambda s: s.execute("insert_item", item("kiwi", qty=3)))

    def reads(s: Session) -> tuple:
        return (
            s.fetch_all("item_names"),
            s.fetch_one("item_by_name", {"name": "kiwi"}),
            s.fetch_one("item_by_name", {"name": "absent"}),
            s.fetch_value("item_count"),
            s.fetch_value("counter_value", {"name": "absent"}),
        )

    all_rows, one, missing, count, no_value = engine.read(reads)
    assert all_rows == [{"name": "kiwi"}]
    assert one is not None and (one["name"], one["qty"]) == ("kiwi", 3)
    assert missing is None and no_value is None
    assert count == 1


def test_execute_many(engine: Engine) -> None:
    batch = [item(f"item{i}", qty=i) for i in range(50)]
    assert engine.write(lambda s: s.execute_many("insert_item", batch)) == 50
    assert engine.write(lambda s: s.execute_many("insert_item", [])) == 0
    assert engine.read(lambda s: s.fetch_value("item_count")) == 50


def test_literal_percent_in_a_query_without_parameters(engine: Engine) -> None:
    engine.write(
        lambda s: s.execute_many("insert_item", [item("apple"), item("avocado"), item("fig")])
    )
    rows = engine.read(lambda s: s.fetch_all("names_starting_with_a"))
    assert [row["name"] for row in rows] == ["apple", "avocado"]


def test_missing_parameter_is_a_query_error(engine: Engine) -> None:
    with pytest.raises(QueryError, match="needs parameter\\(s\\): name"):
        engine.read(lambda s: s.fetch_one("item_by_name", {}))


def test_transaction_that_raises_is_rolled_back(engine: Engine) -> None:
    def work(s: Session) -> None:
        s.execute("insert_item", item("ghost"))
        s.execute("insert_item", item("ghost2"))
        raise RuntimeError("changed my mind")

    with pytest.raises(RuntimeError, match="changed my mind"):
        engine.write(work)
    assert names(engine) == []
    engine.write(lambda s: s.execute("insert_item", item("real")))  # the engine still works
    assert names(engine) == ["real"]


def test_duplicate_key_is_integrity_error(engine: Engine) -> None:
    engine.write(lambda s: s.execute("insert_item", item("once")))
    with pytest.raises(IntegrityError):
        engine.write(lambda s: s.execute("insert_item", item("once")))
    with pytest.raises(IntegrityError):
        engine.write(lambda s: s.execute("insert_item", item(None)))  # NOT NULL


def test_integrity_error_can_be_caught_inside_a_transaction(engine: Engine) -> None:
    engine.write(lambda s: s.execute("insert_item", item("taken")))

    def insert_or_update(s: Session) -> str:
        try:
            s.execute("insert_item", item("taken", qty=9))
            return "inserted"
        except IntegrityError:
            s.execute("set_qty", {"name": "taken", "qty": 9})
            return "updated"

    assert engine.write(insert_or_update) == "updated"
    assert engine.read(lambda s: s.fetch_one("item_by_name", {"name": "taken"}))["qty"] == 9


def test_datetimes_dates_and_blobs_round_trip(engine: Engine) -> None:
    vec = np.array([0.5, -1.25, 3.0, 1e-3], dtype="<f4").tobytes()
    values = item("dated", created_at=NOON, day=date(2024, 2, 29), vec=vec)
    engine.write(lambda s: s.execute("insert_item", values))
    row = engine.read(lambda s: s.fetch_one("item_by_name", {"name": "dated"}))
    assert row is not None
    assert row["created_at"] == NOON and row["created_at"].tzinfo is None
    assert row["day"] == date(2024, 2, 29)
    assert bytes(row["vec"]) == vec


def test_ping(engine: Engine) -> None:
    engine.ping()

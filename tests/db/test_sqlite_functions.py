"""SingleStore's functions as registered on SQLite, checked against numpy through real SQL."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator

import numpy as np
import pytest

from service.db import sqlite_functions


@pytest.fixture
def db() -> Iterator[sqlite3.Connection]:
    connection = sqlite3.connect(":memory:")
    sqlite_functions.register(connection)
    yield connection
    connection.close()


def value(db: sqlite3.Connection, sql: str, *params: object) -> object:
    return db.execute(sql, params).fetchone()[0]


def pack(values: np.ndarray) -> bytes:
    return np.asarray(values, dtype="<f4").tobytes()


@pytest.fixture
def vectors() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    return rng.normal(size=64).astype(np.float32), rng.normal(size=64).astype(np.float32)


def test_dot_product_matches_numpy(db: sqlite3.Connection, vectors) -> None:
    a, b = vectors
    got = value(db, "SELECT DOT_PRODUCT(?, ?)", pack(a), pack(b))
    assert got == pytest.approx(float(np.dot(a.astype(np.float64), b)), rel=1e-5)


def test_euclidean_distance_matches_numpy(db: sqlite3.Connection, vectors) -> None:
    a, b = vectors
    got = value(db, "SELECT EUCLIDEAN_DISTANCE(?, ?)", pack(a), pack(b))
    assert got == pytest.approx(float(np.linalg.norm(a.astype(np.float64) - b)), rel=1e-5)
    assert value(db, "SELECT EUCLIDEAN_DISTANCE(?, ?)", pack(a), pack(a)) == 0.0


def test_json_array_pack_is_little_endian_float32(db: sqlite3.Connection, vectors) -> None:
    a, _ = vectors
    packed = value(db, "SELECT JSON_ARRAY_PACK(?)", json.dumps(a.tolist()))
    assert packed == a.astype("<f4").tobytes()
    # SingleStore's documented example: JSON_ARRAY_PACK('[1.0, 0.5, 2.0]')
    assert value(db, "SELECT HEX(JSON_ARRAY_PACK('[1.0, 0.5, 2.0]'))") == (
        "0000803F0000003F00000040"
    )


def test_pack_unpack_round_trip(db: sqlite3.Connection, vectors) -> None:
    a, _ = vectors
    text = value(db, "SELECT JSON_ARRAY_UNPACK(JSON_ARRAY_PACK(?))", json.dumps(a.tolist()))
    assert np.array_equal(np.asarray(json.loads(text), dtype=np.float32), a)


def test_unpack_prints_like_singlestore(db: sqlite3.Connection) -> None:
    # SingleStore's documented output for JSON_ARRAY_PACK('[12.1, 6.4]'): 9 significant digits.
    assert value(db, "SELECT JSON_ARRAY_UNPACK(JSON_ARRAY_PACK('[12.1, 6.4]'))") == (
        "[12.1000004,6.4000001]"
    )
    assert value(db, "SELECT JSON_ARRAY_UNPACK(JSON_ARRAY_PACK('[]'))") == "[]"


def test_vector_num_elements(db: sqlite3.Connection, vectors) -> None:
    a, _ = vectors
    assert value(db, "SELECT VECTOR_NUM_ELEMENTS(?)", pack(a)) == a.size


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT DOT_PRODUCT(NULL, JSON_ARRAY_PACK('[1]'))",
        "SELECT DOT_PRODUCT(JSON_ARRAY_PACK('[1]'), NULL)",
        "SELECT EUCLIDEAN_DISTANCE(NULL, NULL)",
        "SELECT JSON_ARRAY_PACK(NULL)",
        "SELECT JSON_ARRAY_UNPACK(NULL)",
        "SELECT VECTOR_NUM_ELEMENTS(NULL)",
        "SELECT GREATEST(1, NULL, 3)",
        "SELECT LEAST(NULL, 2)",
        "SELECT SQRT(NULL)",
        "SELECT SQRT(-1)",
    ],
)
def test_null_in_null_out(db: sqlite3.Connection, sql: str) -> None:
    assert value(db, sql) is None


def test_overflow_to_infinity_is_null(db: sqlite3.Connection) -> None:
    big = np.array([3e38, 3e38], dtype=np.float32)
    assert value(db, "SELECT DOT_PRODUCT(?, ?)", pack(big), pack(big)) is None
    assert value(db, "SELECT EUCLIDEAN_DISTANCE(?, ?)", pack(big), pack(-big)) is None


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT DOT_PRODUCT(JSON_ARRAY_PACK('[1, 2]'), JSON_ARRAY_PACK('[1, 2, 3]'))",
        "SELECT EUCLIDEAN_DISTANCE(JSON_ARRAY_PACK('[1]'), JSON_ARRAY_PACK('[1, 2]'))",
        "SELECT DOT_PRODUCT(X'000000', X'000000')",  # not a multiple of 4 bytes
        "SELECT JSON_ARRAY_PACK('{\"a\": 1}')",
        "SELECT JSON_ARRAY_PACK('[1, \"two\"]')",
        "SELECT JSON_ARRAY_PACK('[[1, 2]]')",
    ],
)
def test_bad_vectors_are_errors(db: sqlite3.Connection, sql: str) -> None:
    with pytest.raises(sqlite3.OperationalError):
        value(db, sql)


def test_mismatched_lengths_message() -> None:
    with pytest.raises(ValueError, match="vector lengths differ: 2 and 3"):
        sqlite_functions.dot_product(pack(np.ones(2)), pack(np.ones(3)))


def test_rand_is_in_unit_interval(db: sqlite3.Connection) -> None:
    draws = [value(db, "SELECT RAND()") for _ in range(500)]
    assert all(0.0 <= x < 1.0 for x in draws)
    assert len(set(draws)) > 490  # not a constant
    assert value(db, "SELECT RAND(42)") == value(db, "SELECT RAND(42)")


def test_rand_differs_per_row(db: sqlite3.Connection) -> None:
    db.execute("CREATE TABLE t (x)")
    db.executemany("INSERT INTO t VALUES (?)", [(i,) for i in range(50)])
    assert len({row[0] for row in db.execute("SELECT RAND() FROM t")}) == 50


def test_greatest_least_sqrt(db: sqlite3.Connection) -> None:
    assert value(db, "SELECT GREATEST(3, 7, 5)") == 7
    assert value(db, "SELECT LEAST('b', 'a', 'c')") == "a"
    assert value(db, "SELECT SQRT(2.0)") == pytest.approx(2**0.5)

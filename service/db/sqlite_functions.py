"""SingleStore's SQL functions for SQLite, with SingleStore's semantics.

Vectors are BLOBs of little-endian float32, as SingleStore's `JSON_ARRAY_PACK` makes them,
so one query text (and one stored byte format) serves both engines. As in SingleStore:
NULL in gives NULL out; vectors of different lengths, or blobs whose length is not a multiple
of 4, are an error; a DOT_PRODUCT or EUCLIDEAN_DISTANCE that overflows to inf/NaN is NULL;
JSON_ARRAY_UNPACK prints each float with 9 significant digits (`[12.1000004,6.4000001]`).
"""

from __future__ import annotations

import json
import math
import random
import sqlite3
from collections.abc import Callable
from typing import Any

import numpy as np

F32 = np.dtype("<f4")


def _vector(value: bytes | str) -> np.ndarray:
    if isinstance(value, str):  # a JSON array, as SingleStore accepts beside a VECTOR
        return _packed(value)
    if len(value) % 4:
        raise ValueError("vector blob length is not a multiple of 4")
    return np.frombuffer(value, dtype=F32)


def _packed(text: str) -> np.ndarray:
    values = json.loads(text)
    if not isinstance(values, list) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in values
    ):
        raise ValueError("expected a JSON array of numbers")
    return np.asarray(values, dtype=F32)


def _pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    va, vb = _vector(a), _vector(b)
    if va.shape != vb.shape:
        raise ValueError(f"vector lengths differ: {va.size} and {vb.size}")
    return va, vb


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def dot_product(a: Any, b: Any) -> float | None:
    if a is None or b is None:
        return None
    va, vb = _pair(a, b)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow gives NULL, as documented
        return _finite(float(np.dot(va, vb)))


def euclidean_distance(a: Any, b: Any) -> float | None:
    if a is None or b is None:
        return None
    va, vb = _pair(a, b)
    with np.errstate(over="ignore", invalid="ignore"):
        return _finite(float(np.linalg.norm(va - vb)))


def json_array_pack(text: str | None) -> bytes | None:
    return None if text is None else _packed(text).tobytes()


def json_array_unpack(blob: bytes | None) -> str | None:
    if blob is None:
        return None
    return "[" + ",".join(format(float(x), ".9g") for x in _vector(blob)) + "]"


def vector_num_elements(blob: bytes | None) -> int | None:
    return None if blob is None else _vector(blob).size


def rand(seed: int | None = None) -> float:
    # SingleStore's RAND(N) starts a repeatable sequence per query; here a seed gives one
    # repeatable value. Unseeded, both give a uniform float in [0, 1).
    return random.Random(seed).random() if seed is not None else random.random()


def greatest(*values: Any) -> Any:
    return None if any(v is None for v in values) else max(values)


def least(*values: Any) -> Any:
    return None if any(v is None for v in values) else min(values)


def sqrt(value: float | None) -> float | None:
    return None if value is None or value < 0 else math.sqrt(value)


FUNCTIONS: dict[str, tuple[int, Callable[..., Any]]] = {
    "DOT_PRODUCT": (2, dot_product),
    "EUCLIDEAN_DISTANCE": (2, euclidean_distance),
    "JSON_ARRAY_PACK": (1, json_array_pack),
    "JSON_ARRAY_UNPACK": (1, json_array_unpack),
    "VECTOR_NUM_ELEMENTS": (1, vector_num_elements),
    "RAND": (-1, rand),
    "GREATEST": (-1, greatest),
    "LEAST": (-1, least),
    "SQRT": (1, sqrt),
}


def register(connection: sqlite3.Connection) -> None:
    """Register every function above on one connection (the prepare-connection step)."""
    for name, (arity, fn) in FUNCTIONS.items():
        connection.create_function(name, arity, fn, deterministic=name != "RAND")

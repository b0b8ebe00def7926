"""Vectors on the wire to the database: little-endian float32 bytes, on both engines.

SQLite stores those bytes in a BLOB; SingleStore converts them for its VECTOR(d, F32) column
(a BLOB next to a VECTOR is read as packed F32). Reading back, SingleStore projects VECTOR
columns as JSON arrays by default, so `unpack` takes either form.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

import numpy as np

F32 = np.dtype("<f4")


def pack(vector: np.ndarray) -> bytes:
    return np.ascontiguousarray(vector, dtype=F32).tobytes()


def unpack(value: bytes | bytearray | memoryview | str | Sequence[float]) -> np.ndarray:
    """A stored vector as float32: packed bytes, a JSON array (SingleStore's default VECTOR
    projection), or an already decoded sequence (a driver that parses VECTOR itself)."""
    if isinstance(value, bytes | bytearray | memoryview):
        return np.frombuffer(value, dtype=F32).astype(np.float32)
    if isinstance(value, str):
        return np.asarray(json.loads(value), dtype=np.float32)
    return np.asarray(value, dtype=np.float32)


def stack(values: Iterable, dimension: int) -> np.ndarray:
    """Many stored vectors as one (n, dimension) float32 matrix."""
    items = list(values)
    if items and all(isinstance(v, bytes) for v in items):
        joined = b"".join(items)  # one copy, then a read-only view: SQLite BLOBs' fast path
        return np.frombuffer(joined, dtype=F32).reshape(len(items), dimension)
    matrix = np.empty((len(items), dimension), dtype=np.float32)
    for row, value in enumerate(items):
        matrix[row] = unpack(value)
    return matrix

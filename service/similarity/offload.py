"""Embedding stored images in a process of its own, at the lowest CPU priority.

Decoding and embedding are CPU-bound Python and numpy work. Run in a server process, they
hold its GIL away from the job pool and the web requests; run here, the operating system
gives them only the CPU nobody else wants (nice 19), and the server process merely waits
for the vectors. The background catch-up uses this (store-visit images above all, which
arrive by the thousand); upload hooks still embed at once, in a thread, so a new snapshot
has its embedding when its request returns. The vectors are the same either way: same
embedder, same bytes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import numpy as np
import structlog

log = structlog.get_logger(__name__)

# In the embedding process: what it opened once, by (storage URL, embedder, max pixels).
_opened: dict[tuple[str, str, int], tuple[Any, Any]] = {}


def _lower_priority() -> None:
    os.nice(19)


def _embed_keys(
    storage_url: str, embedder_spec: str, max_pixels: int, keys: Sequence[str]
) -> list[tuple[np.ndarray | None, str | None]]:
    """In the embedding process: (vector, None) per readable image, else (None, reason)."""
    from service.similarity.embedders import create_embedder, decode
    from service.storage import create_blob_store

    opened = _opened.get((storage_url, embedder_spec, max_pixels))
    if opened is None:
        opened = (create_blob_store(storage_url, ""), create_embedder(embedder_spec))
        _opened[(storage_url, embedder_spec, max_pixels)] = opened
    blobs, embedder = opened
    out: list[tuple[np.ndarray | None, str | None]] = []
    for key in keys:
        try:
            out.append((embedder.embed([decode(blobs.get(key), max_pixels)])[0], None))
        except Exception as exc:  # one bad blob must not stop the others
            out.append((None, str(exc)))
    return out


class EmbeddingProcess:
    """One spawned worker process; restarted if it dies."""

    def __init__(self, storage_url: str, embedder_spec: str, max_pixels: int) -> None:
        self.args = (storage_url, embedder_spec, max_pixels)
        self._pool = self._start()

    @staticmethod
    def _start() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),  # a lean process, no inherited locks
            initializer=_lower_priority,
        )

    async def embed_blobs(self, keys: Sequence[str]) -> list[np.ndarray | None]:
        """Embeddings of stored images by key; None for one that cannot be read or decoded."""
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(self._pool, _embed_keys, *self.args, list(keys))
        except BrokenProcessPool:
            log.warning("embedding process died; starting another")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            raise
        for key, (_, error) in zip(keys, results, strict=True):
            if error is not None:
                log.warning("image not embedded", blob_key=key, error=error)
        return [vector for vector, _ in results]

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

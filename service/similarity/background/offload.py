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

# In the embedding process: what it opened once, by (storage URL, embedder, model dir).
_opened: dict[tuple[str, str, str], tuple[Any, Any]] = {}


def _start_worker(parent: int) -> None:
    """In the embedding process: lowest CPU priority, and end with the server process."""
    from service.children import follow_parent

    if not follow_parent(parent):
        os._exit(0)  # the server process is gone already
    os.nice(19)


def _embed_keys(
    storage_url: str, embedder_spec: str, model_dir: str, max_pixels: int, keys: Sequence[str]
) -> list[tuple[np.ndarray | None, str | None]]:
    """In the embedding process: (vector, None) per embedded image, else (None, why)."""
    from service.similarity.embedding.embedders import create_embedder, embed_stored
    from service.storage import create_blob_store

    opened = _opened.get((storage_url, embedder_spec, model_dir))
    if opened is None:
        opened = (create_blob_store(storage_url, ""), create_embedder(embedder_spec, model_dir))
        _opened[(storage_url, embedder_spec, model_dir)] = opened
    blobs, embedder = opened
    return embed_stored(embedder, max_pixels, blobs.get, keys)


class EmbeddingProcess:
    """One spawned worker process; restarted if it dies."""

    def __init__(
        self, storage_url: str, embedder_spec: str, model_dir: str, max_pixels: int
    ) -> None:
        self.args = (storage_url, embedder_spec, model_dir, max_pixels)
        self._pool = self._start()

    @staticmethod
    def _start() -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=1,
            mp_context=multiprocessing.get_context("spawn"),  # a lean process, no inherited locks
            initializer=_start_worker,
            initargs=(os.getpid(),),
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
        from service.similarity.index.store import note_failures

        return note_failures(keys, results)

    def close(self) -> None:
        """Stop now, dropping a batch in progress: at nice 19 on a busy machine it can take
        many seconds, and this process could not exit until it ended. Its images are still
        missing an embedding, so the catch-up does them next time."""
        # ProcessPoolExecutor has no public way to stop a busy worker before Python 3.14.
        workers = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.terminate()

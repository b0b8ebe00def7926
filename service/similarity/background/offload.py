"""Background CPU work in a process of its own, at the lowest CPU priority.

Decoding, embedding and the geometric check are CPU-bound Python, numpy and OpenCV work.
Run in a server process, they hold its GIL away from the job pool and the web requests; run
here, the operating system gives them only the CPU nobody else wants (nice 19), and the server
process merely waits for the results. The background catch-up and rescoring use this
(store-visit images above all, which arrive by the thousand); upload hooks and requests still
work in a thread, so a new snapshot has its embedding when its request returns. The results
are the same either way: same code, same bytes.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

import structlog

from service.similarity.embedding.decode import Result
from service.similarity.ranking.rerank import Query

log = structlog.get_logger(__name__)

# In the worker process: what it opened once, by (storage URL, embedder, model dir).
_opened: dict[tuple[str, str, str], tuple[Any, Any, Any]] = {}


def _start_worker(parent: int) -> None:
    """In the worker process: lowest CPU priority, and end with the server process."""
    from service.children import follow_parent

    if not follow_parent(parent):
        os._exit(0)  # the server process is gone already
    os.nice(19)


def _open(storage_url: str, embedder_spec: str, model_dir: str, max_pixels: int) -> tuple:
    key = (storage_url, embedder_spec, model_dir)
    found = _opened.get(key)
    if found is None:
        from service.similarity.embedding.embedders import create_embedder
        from service.similarity.ranking.rerank import Matcher
        from service.storage import create_blob_store

        blobs = create_blob_store(storage_url, "")
        embedder = create_embedder(embedder_spec, model_dir)
        found = _opened[key] = (blobs, embedder, Matcher(blobs.get, max_pixels))
    return found


def _embed_keys(args: tuple, keys: Sequence[str], fast: bool) -> list[Result]:
    """In the worker process: (vector, None) per embedded image, else (None, why)."""
    from service.similarity.embedding.decode import embed_stored

    blobs, embedder, _ = _open(*args)
    return embed_stored(embedder, args[3], blobs.get, keys, fast)


def _match(args: tuple, queries: Sequence[Query]) -> list[dict[int, int]]:
    """In the worker process: the geometric check of stored pictures."""
    _, _, matcher = _open(*args)
    return matcher.match_stored(queries)


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

    async def _run(self, fn: Any, *args: Any) -> Any:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, fn, self.args, *args)
        except BrokenProcessPool:
            log.warning("embedding process died; starting another")
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = self._start()
            raise

    async def embed_blobs(self, keys: Sequence[str], fast: bool = False) -> list[Result]:
        """Per stored image: (vector, None), or (None, why) if it cannot be read or decoded."""
        return await self._run(_embed_keys, list(keys), fast)

    async def match_stored(self, queries: Sequence[Query]) -> list[dict[int, int]]:
        return await self._run(_match, list(queries))

    def close(self) -> None:
        """Stop now, dropping a batch in progress: at nice 19 on a busy machine it can take
        many seconds, and this process could not exit until it ended. Its images are still
        missing an embedding, so the catch-up does them next time."""
        # ProcessPoolExecutor has no public way to stop a busy worker before Python 3.14.
        workers = list(getattr(self._pool, "_processes", {}).values())
        self._pool.shutdown(wait=False, cancel_futures=True)
        for worker in workers:
            worker.terminate()

"""`python -m service reembed`: embed every stored image with the configured EMBEDDER.

Embeddings of a new model are written beside the old model's rows, so a running service
that still uses the old model keeps answering while this runs. Resumable: an image that has
an embedding of this model is skipped, so a rerun after an interruption continues. Then every
snapshot's suspicion is scored for this model. `--prune` finally deletes other models' rows.

On SingleStore a model of another dimension needs `--prune` from the start: a VECTOR(n)
column holds one size, so the other models' rows go first and the embedding tables are made
again for the new size (`dimensions.py`); similarity answers little until this finishes.
"""

from __future__ import annotations

import asyncio
import sys
import time
from typing import TextIO

from service.config import Settings
from service.services import Services, open_services
from service.similarity import dimensions, store, suspects
from service.similarity.catchup import Cursor, count_missing, embed_missing
from service.similarity.state import similarity_for

_LABELS = {"product": "products", "snapshot": "snapshots", "job_image": "job images"}


class Bar:
    """A one-line progress bar on a terminal; a line every ~5 seconds otherwise."""

    def __init__(self, label: str, total: int, out: TextIO) -> None:
        self.label, self.total, self.out = label, total, out
        self.done = 0
        self.started = self.shown = time.monotonic()
        self.tty = out.isatty()

    def advance(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        if self.tty or now - self.shown >= 5:
            self.shown = now
            self._show(final=False)

    def _show(self, final: bool) -> None:
        rate = self.done / max(time.monotonic() - self.started, 1e-6)
        share = self.done / self.total if self.total else 1.0
        width = 30
        filled = int(width * min(share, 1.0))
        line = (
            f"{self.label:<11} [{'#' * filled}{'.' * (width - filled)}] "
            f"{self.done}/{self.total} {share:6.1%} {rate:7.1f}/s"
        )
        end = "\n" if final or not self.tty else ""
        self.out.write(("\r" if self.tty else "") + line + end)
        self.out.flush()

    def finish(self) -> None:
        self._show(final=True)


async def reembed(
    services: Services, *, batch: int = 64, prune: bool = False, out: TextIO | None = None
) -> dict[str, int]:
    """Embed what lacks an embedding of the configured model, score snapshots, maybe prune.
    Returns counts: embedded/failed per kind, and `scored`. Progress goes to `out` (stderr)."""
    out = sys.stderr if out is None else out
    similarity = similarity_for(services)
    out.write(f"model {similarity.model} ({similarity.embedder.dimension} dimensions)\n")
    await _fit_vector_columns(services, prune, out)
    counts: dict[str, int] = {}
    for kind in store.KINDS:
        bar = Bar(_LABELS[kind], await count_missing(services, kind), out)
        cursor, embedded, failed = Cursor(), 0, 0
        while True:
            progress = await embed_missing(services, kind, cursor, batch)
            embedded += progress.embedded
            failed += progress.failed
            bar.advance(progress.embedded + progress.failed)
            if not progress.more:
                break
            cursor = progress.cursor
        bar.finish()
        counts[f"{kind}_embedded"], counts[f"{kind}_failed"] = embedded, failed
        if failed:
            out.write(f"  {failed} {_LABELS[kind]} could not be read or decoded (see the log)\n")
    scored = 0
    while done := await suspects.rescore(services):
        scored += done
    out.write(f"suspicion scored for {scored} snapshot(s)\n")
    counts["scored"] = scored
    if prune:

        def delete(session) -> None:  # type: ignore[no-untyped-def]
            params = {"model": similarity.model}
            for kind in ("products", "snapshots", "job_images", "suspicion"):
                session.execute(f"similarity_delete_other_models_{kind}", params)
            for kind in ("product", "snapshot"):
                store.note_rewrite(session, similarity, kind)

        await services.db.transaction(delete)
        out.write("embeddings of other models deleted\n")
    return counts


async def _fit_vector_columns(services: Services, prune: bool, out: TextIO) -> None:
    """Make SingleStore's VECTOR(n) columns the embedder's size, if `prune` allows it."""
    similarity = similarity_for(services)
    size = similarity.embedder.dimension
    found = await services.db.read(
        lambda session: dimensions.mismatched(session, similarity.dialect, size)
    )
    if not found:
        return
    declared = ", ".join(f"{table} VECTOR({n})" for table, n in sorted(found.items()))
    if not prune:
        raise dimensions.DimensionMismatch(
            f"{declared}, but {similarity.model} has {size} dimensions: rerun with --prune, "
            "which deletes the other models' embeddings and makes these tables again for "
            f"VECTOR({size})"
        )

    def remake(session) -> None:  # type: ignore[no-untyped-def]
        session.execute("similarity_delete_other_models_suspicion", {"model": similarity.model})
        dimensions.resize(session, size)

    await services.db.transaction(remake)
    out.write(f"embedding tables made again for VECTOR({size}) (were {declared})\n")


def reembed_command(settings: Settings, *, batch: int, prune: bool) -> int:
    async def main() -> dict[str, int]:
        async with open_services(settings) as services:
            return await reembed(services, batch=batch, prune=prune)

    try:
        counts = asyncio.run(main())
    except dimensions.DimensionMismatch as exc:
        print(f"reembed: {exc}", file=sys.stderr)
        return 2
    return 1 if any(v for k, v in counts.items() if k.endswith("_failed")) else 0

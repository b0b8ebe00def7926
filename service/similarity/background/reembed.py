"""`python -m service reembed`: embed every stored image with the configured EMBEDDER.

Embeddings of a new model are written beside the old model's rows, so a running service
that still uses the old model keeps answering while this runs. Resumable: an image that has
an embedding of this model is skipped, so a rerun after an interruption continues. Then a
projection is fitted from the labels if one is due (`refit`), every vector is projected and
every snapshot's suspicion scored. `--prune` finally deletes other models' rows.

On SingleStore a model of another dimension needs `--prune` from the start: a VECTOR(n)
column holds one size, so the other models' rows go first and the embedding tables are made
again for the new size (`dimensions.py`); similarity answers little until this finishes.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from service.config import Settings
from service.db import Database
from service.progress import progress_bar
from service.services import Services, open_services
from service.similarity.background.catchup import (
    Key,
    count_missing,
    embed_missing,
    project_missing,
)
from service.similarity.background.refit import refit_if_due
from service.similarity.index import dimensions, store
from service.similarity.index.state import Similarity, current_for, similarity_for
from service.similarity.ranking import suspects

PRUNE_BATCH = 5_000  # rows per DELETE on SingleStore (`reembed --prune`)

_LABELS = {"product": "products", "snapshot": "snapshots", "job_image": "job images"}
_PRUNE = (
    "similarity_delete_other_models_products",
    "similarity_delete_other_models_snapshots",
    "similarity_delete_other_models_job_images",
    "similarity_delete_other_models_suspicion",
)


async def reembed(
    services: Services,
    *,
    batch: int = 64,
    prune: bool = False,
    fit: bool = True,
    out: TextIO | None = None,
) -> dict[str, int]:
    """Embed what lacks a raw vector of the configured model, fit a projection from the
    labels (`fit`), project and score every snapshot, maybe prune. Returns counts:
    embedded/failed per kind, and `scored`. Progress goes to `out` (stderr)."""
    out = sys.stderr if out is None else out
    similarity = similarity_for(services)
    out.write(f"model {similarity.raw_model} ({similarity.embedder.dimension} dimensions)\n")
    await _fit_vector_columns(services, prune, out)
    counts: dict[str, int] = {}
    for kind in store.KINDS:
        bar = progress_bar(_LABELS[kind], await count_missing(services, kind), out)
        skip: set[Key] = set()
        embedded, failed = 0, 0
        while True:
            progress = await embed_missing(services, kind, skip, batch)
            embedded += progress.embedded
            failed += progress.failed
            bar.update(progress.embedded + progress.failed)
            if not progress.more:
                break
        bar.close()
        counts[f"{kind}_embedded"], counts[f"{kind}_failed"] = embedded, failed
        if failed:
            out.write(f"  {failed} {_LABELS[kind]} could not be read or decoded (see the log)\n")
    version = await refit_if_due(services) if fit else None
    current = await current_for(services)
    if version:
        out.write(f"projection fitted: {current.model}\n")
    for kind in store.KINDS:
        while await project_missing(services, kind, current):
            pass
    scored = await suspects.rescore_all(services, current=current)
    out.write(f"suspicion scored for {scored} snapshot(s)\n")
    counts["scored"] = scored
    if prune:
        deleted = await prune_other_models(services.db, similarity)
        out.write(f"{deleted} row(s) of other models deleted\n")
    return counts


async def prune_other_models(db: Database, similarity: Similarity, batch: int = PRUNE_BATCH) -> int:
    """Delete every other model's embeddings and scores; returns how many rows went.

    On SingleStore a call deletes at most `batch` rows, each call its own transaction, so no
    DELETE holds many locks for long (on columnstore tables a big one can escalate to
    partition locks); SQLite deletes all at once."""
    params = {"model": similarity.model, "raw_model": similarity.raw_model, "batch": batch}
    deleted = 0
    for query in _PRUNE:
        while True:
            n = (await db.execute(query, params)).rowcount
            deleted += max(n, 0)
            if n < batch:
                break

    def reload(session) -> None:  # type: ignore[no-untyped-def]
        for kind in ("product", "snapshot"):
            store.note_rewrite(session, similarity.dialect, kind)

    await db.transaction(reload)
    return deleted


async def _fit_vector_columns(services: Services, prune: bool, out: TextIO) -> None:
    """Make SingleStore's VECTOR(n) columns the embedder's size, if `prune` allows it."""
    similarity = similarity_for(services)
    size = similarity.embedder.dimension
    found = await services.db.read(
        lambda session: dimensions.mismatched(session, similarity.dialect, size)
    )
    if not found:
        return
    declared = ", ".join(
        f"{table} VECTOR({n})" if n else f"{table} missing" for table, n in sorted(found.items())
    )
    if not prune:
        raise dimensions.DimensionMismatch(
            f"{declared}, but {similarity.raw_model} has {size} dimensions: rerun with --prune, "
            "which deletes the other models' embeddings and makes these tables again for "
            f"VECTOR({size})"
        )

    # DDL in autocommit, resumable; the tables it makes are empty, so pruning comes after
    # (and finds a table that a crash left missing already made again).
    await services.db.autocommit(lambda session: dimensions.resize(session, size))
    await prune_other_models(services.db, similarity)
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

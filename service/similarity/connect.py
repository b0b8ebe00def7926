"""What similarity plugs into the rest of the service when it starts (nothing imports
similarity; it registers here):

- the catalog's hooks: embed a stored product or snapshot, rescore a relabelled snapshot;
- QA: the model whose suspicion scores it reads, and QA_PRIORITY=suspects;
- reports: the embedding backlog in /metrics, a job's embedding in its report.
"""

from __future__ import annotations

from service.catalog import hooks as catalog_hooks
from service.db import Session
from service.http import metrics
from service.jobs import extensions
from service.qa import scoring
from service.services import Services
from service.similarity import hooks
from service.similarity.background.catchup import job_image_share
from service.similarity.index.state import current_for, similarity_for
from service.similarity.qa_priority import register_suspects_picker


async def _active_model(services: Services) -> str:
    return (await current_for(services)).model


def connect(services: Services) -> None:
    """Register every listener and provider (a later call replaces the earlier ones)."""
    catalog_hooks.register(
        "similarity",
        product_stored=hooks.embed_product,
        snapshot_stored=hooks.embed_snapshot,
        snapshot_relabelled=hooks.rescore_snapshot,
    )
    scoring.register_model(_active_model)
    register_suspects_picker(similarity_for(services).raw_model)
    _register_reports(services)


def _register_reports(services: Services) -> None:
    similarity = similarity_for(services)
    share = job_image_share(services)

    def backlog(session: Session) -> list[metrics.Series]:
        current = similarity.current(session, services.blobs)
        row = session.fetch_one(
            "similarity_backlog",
            {"raw_model": current.raw_model, "model": current.model, "per_mille": share},
        )
        row = row or {}
        waiting = {
            "product": int(row.get("products_unembedded") or 0),
            "snapshot": int(row.get("snapshots_unembedded") or 0),
            "job_image": int(row.get("job_images_unembedded") or 0),
        }
        return [
            ("embedding_backlog", "Stored images still to embed, by kind", "kind", waiting),
            (
                "projection_backlog",
                "Snapshot vectors still to project with the active projection",
                "kind",
                {"snapshot": int(row.get("snapshots_unprojected") or 0)},
            ),
            (
                "projection_version",
                "The active projection's version (0: none fitted yet)",
                "model",
                {current.raw_model: current.version},
            ),
        ]

    def job_embedding(session: Session, job_id: int) -> dict[str, int]:
        row = session.fetch_one(
            "similarity_job_embedding",
            {"job_id": job_id, "raw_model": similarity.raw_model, "per_mille": share},
        )
        row = row or {}
        return {key: int(row.get(key) or 0) for key in ("embedded", "waiting", "not_sampled")}

    metrics.register("similarity", backlog)
    extensions.register_embedding_report(job_embedding)

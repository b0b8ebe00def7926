"""What other features add to the jobs' answers, registered when they start: jobs imports
none of them (similarity registers how far a job's images are embedded)."""

from __future__ import annotations

from collections.abc import Callable

from service.db import Session

# (session, job id) -> {"embedded": n, "waiting": n, "not_sampled": n}
EmbeddingReport = Callable[[Session, int], dict[str, int]]
_embedding: list[EmbeddingReport] = []


def register_embedding_report(report: EmbeddingReport) -> None:
    _embedding[:] = [report]


def embedding_report(session: Session, job_id: int) -> dict[str, int] | None:
    return _embedding[0](session, job_id) if _embedding else None

"""Prometheus metrics at `GET /metrics`.

Two kinds:
- per process, kept in memory: request count and latency by method, route template (never
  the raw path, which would make a series per job id) and status, from Litestar's
  Prometheus middleware;
- from the database, counted at scrape time (named queries in sql/queries/metrics.sql), so
  every process reports the same numbers however many of them run: jobs and their images by
  state, queue depth, QA votes, resolutions and sessions.

When the database does not answer, the scrape still succeeds: `retail_pulse_database_up` is
0 and the database-derived series are left out. Features add series of their own with
`register` (similarity: the embedding backlog), so this module imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import structlog
from litestar import Response, get
from litestar.plugins.prometheus import PrometheusConfig
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from service.clock import utcnow
from service.db import DatabaseError, Session
from service.services import Services

log = structlog.get_logger(__name__)

PREFIX = "retail_pulse"
SKIP = "skip_metrics"  # route opt: leave this route out of the request metrics

# Request metrics: `retail_pulse_requests_total`, `retail_pulse_request_duration_seconds`,
# `retail_pulse_requests_in_progress`, `retail_pulse_requests_error_total`.
PROMETHEUS = PrometheusConfig(app_name=PREFIX, prefix=PREFIX, group_path=True, exclude_opt_key=SKIP)

IMAGE_STATES = ("queued", "in_progress", "done", "failed")
SNAPSHOT_STATES = ("pending", "match", "mismatch")
SESSION_STATES = ("open", "completed", "expired")


# A feature's series, read in the scrape's read transaction: (name, doc, label, values),
# one gauge `retail_pulse_NAME` per item with a series per label value.
Series = tuple[str, str, str, dict[str, int]]
_EXTRA: dict[str, Callable[[Session], Iterable[Series]]] = {}


def register(feature: str, series: Callable[[Session], Iterable[Series]]) -> None:
    """Add a feature's gauges to every scrape (a later call for the feature replaces it)."""
    _EXTRA[feature] = series


@dataclass
class Counts:
    """What the database holds right now."""

    jobs: dict[str, int] = field(default_factory=dict)
    images: dict[str, int] = field(default_factory=dict)
    votes: dict[str, int] = field(default_factory=dict)
    snapshots: dict[str, int] = field(default_factory=dict)
    sessions: dict[str, int] = field(default_factory=dict)
    extra: list[Series] = field(default_factory=list)


def _by(rows: list[dict], key: str) -> dict[str, int]:
    return {str(row[key]): int(row["n"]) for row in rows}


def count(session: Session) -> Counts:
    now = utcnow()
    total = int(session.fetch_value("metrics_jobs_total") or 0)
    ongoing = int(session.fetch_value("metrics_jobs_ongoing") or 0)
    failed = int(session.fetch_value("metrics_jobs_failed") or 0)
    votes = {
        "match" if int(row["is_match"]) else "mismatch": int(row["n"])
        for row in session.fetch_all("metrics_qa_votes")
    }
    return Counts(
        jobs={"ongoing": ongoing, "failed": failed, "completed": total - ongoing - failed},
        images=_by(session.fetch_all("metrics_job_images", {"now": now}), "state"),
        votes=votes,
        snapshots=_by(session.fetch_all("metrics_snapshots"), "status"),
        sessions=_by(session.fetch_all("metrics_qa_sessions"), "status"),
        extra=[item for series in _EXTRA.values() for item in series(session)],
    )


JOB_STATES = ("ongoing", "completed", "failed")
VERDICTS = ("match", "mismatch")


def _family(kind: type, name: str, doc: str, label: str, values: dict[str, int], states: tuple):
    """A metric with one series per state: every known state listed (zeros too), then any
    other state the database holds."""
    family = kind(f"{PREFIX}_{name}", doc, labels=[label])
    for state in dict.fromkeys([*states, *values]):
        family.add_metric([state], values.get(state, 0))
    return family


def _single(name: str, doc: str, value: int) -> GaugeMetricFamily:
    family = GaugeMetricFamily(f"{PREFIX}_{name}", doc)
    family.add_metric([], value)
    return family


class DatabaseCollector:
    """One scrape's database-derived series."""

    def __init__(self, counts: Counts | None) -> None:
        self.counts = counts

    def collect(self) -> Iterator[Metric]:
        c = self.counts
        yield _single("database_up", "1 when the database answered this scrape", int(c is not None))
        if c is None:
            return
        yield _family(
            GaugeMetricFamily, "jobs", "Store-visit jobs by state", "state", c.jobs, JOB_STATES
        )
        yield _family(
            GaugeMetricFamily, "job_images", "Job images by state", "state", c.images, IMAGE_STATES
        )
        yield _single("job_queue_depth", "Images waiting to be claimed", c.images.get("queued", 0))
        yield _family(
            CounterMetricFamily, "qa_votes", "QA verdicts recorded", "verdict", c.votes, VERDICTS
        )
        resolved = {k: v for k, v in c.snapshots.items() if k != "pending"}
        yield _family(
            CounterMetricFamily,
            "qa_resolutions",
            "Snapshots resolved by QA consensus",
            "status",
            resolved,
            VERDICTS,
        )
        yield _single(
            "qa_pending_snapshots", "Snapshots awaiting QA", c.snapshots.get("pending", 0)
        )
        yield _family(
            GaugeMetricFamily,
            "qa_sessions",
            "QA sessions by status",
            "status",
            c.sessions,
            SESSION_STATES,
        )
        for name, doc, label, values in c.extra:
            yield _family(GaugeMetricFamily, name, doc, label, values, ())


@get(
    "/metrics",
    operation_id="metrics",
    summary="Prometheus metrics",
    tags=["health"],
    include_in_schema=False,
    opt={SKIP: True},
)
async def metrics(services: Services) -> Response[bytes]:
    try:
        counts: Counts | None = await services.db.read(count)
    except DatabaseError as exc:
        log.warning("metrics: database counts unavailable", error=str(exc))
        counts = None
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(counts))  # type: ignore[arg-type]
    body = generate_latest(REGISTRY) + generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)

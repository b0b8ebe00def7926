"""HTTP routes of the jobs API: parse, call the jobs rules, answer."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.openapi.datastructures import ResponseSpec

from service.clock import as_datetime, as_utc
from service.errors import InvalidInput, NotFound
from service.http.schema import RowId, error_responses, json_body_operation
from service.services import Services

from . import repository
from .contract import (
    DayPerimeter,
    EmbeddingCounts,
    ImageCounts,
    ImageReport,
    JobCreated,
    JobReport,
    JobStatus,
    JobSubmission,
    JobTimings,
    StoreVisits,
    VisitReport,
    VisitsReport,
)
from .repository import as_day
from .states import job_status, store_failures
from .validation import parse_submission
from .worker import notify_new_work

_JOB_ID = re.compile(r"^[0-9]{1,18}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
_FIRST, _LAST = date(1970, 1, 1), date(2999, 12, 31)  # the years a visit_time may have


class EmptyObject(msgspec.Struct):
    """`{}`: the contract's answer to an unknown, missing or non-integer jobid."""


@post(
    ["/api/submit", "/api/submit/"],
    operation_id="submit_job",
    summary="Submit a job of store visits and their images",
    tags=["jobs"],
    status_code=201,
    operation_class=json_body_operation(
        JobSubmission, "A job: its visits and their image URLs. At most 5 MB."
    ),
    responses=error_responses(
        e400="Invalid body; the message names the field",
        e413="Body over the size limit (MAX_BODY_BYTES)",
    ),
)
async def submit_job(request: Request, services: Services) -> JobCreated:
    """Store the job durably and answer at once; images are processed in the background."""
    job = parse_submission(await request.body(), services.settings.max_job_images)
    job_id = await repository.create_job(services.db, job)
    notify_new_work()
    return JobCreated(job_id=job_id)


@get(
    "/api/status",
    operation_id="job_status",
    summary="A job's status: ongoing, completed, or failed with per-store reasons",
    tags=["jobs"],
    responses={
        400: ResponseSpec(
            EmptyObject, generate_examples=False, description="Unknown or invalid jobid: `{}`"
        )
    },
)
async def get_job_status(services: Services, jobid: str | None = None) -> Response[JobStatus]:
    """`failed` lists one entry per failed store, with a reason a person can act on."""
    if jobid is None or not _JOB_ID.match(jobid.strip()):
        return Response({}, status_code=400)  # type: ignore[arg-type]
    state = await repository.job_state(services.db, int(jobid.strip()))
    if state is None:
        return Response({}, status_code=400)  # type: ignore[arg-type]
    job, counts, failed = state
    status = job_status(counts.pending, counts.failed)
    errors = store_failures(failed) if status == "failed" else None
    return Response(JobStatus(job_id=int(job["id"]), status=status, error=errors))


def _mean(values: list[Any]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return round(sum(present) / len(present), 3) if present else None


def _visit_time(row: dict[str, Any]) -> str:
    """The visit's wall-clock time as sent: with its zone offset when it had one."""
    when = as_datetime(row["visit_time"])
    assert when is not None
    offset = row["utc_offset_minutes"]
    if offset is not None:
        when = when.replace(tzinfo=timezone(timedelta(minutes=offset)))
    return when.isoformat()


@get(
    "/api/jobs/{job_id:int}",
    operation_id="job_report",
    summary="A job in detail: counts, timings, and every image's result",
    tags=["jobs"],
    responses=error_responses(e400="A job id out of range", e404="No such job"),
)
async def get_job_report(job_id: RowId, services: Services) -> JobReport:
    details = await repository.job_details(services.db, job_id)
    if details is None:
        raise NotFound(f"no job with id {job_id}")
    job, visit_rows, image_rows, embedding = details
    by_visit: dict[int, list[ImageReport]] = {}
    for row in image_rows:
        key = row["blob_key"]
        by_visit.setdefault(int(row["visit_index"]), []).append(
            ImageReport(
                index=int(row["seq"]),
                url=row["url"],
                status=row["status"],
                attempts=int(row["attempts"]),
                width=row["width"],
                height=row["height"],
                perimeter=None if row["perimeter"] is None else int(row["perimeter"]),
                blob_key=key,
                blob_url=services.blobs.url(key) if key else None,
                error=row["error"],
                started_at=as_utc(row["started_at"]),
                finished_at=as_utc(row["finished_at"]),
            )
        )
    visits = [
        VisitReport(
            visit_index=int(v["visit_index"]),
            store_id=v["store_id"],
            store_name=v["store_name"],
            area_code=v["area_code"],
            visit_time=_visit_time(v),
            images=by_visit.get(int(v["visit_index"]), []),
        )
        for v in visit_rows
    ]
    pending = sum(1 for r in image_rows if r["status"] == "pending")
    failed = sum(1 for r in image_rows if r["status"] == "failed")
    starts = [t for r in image_rows if (t := as_utc(r["started_at"])) is not None]
    ends = [t for r in image_rows if (t := as_utc(r["finished_at"])) is not None]
    created = as_utc(job["created_at"])
    assert created is not None
    last = max(ends) if ends and not pending else None
    return JobReport(
        job_id=int(job["id"]),
        status=job_status(pending, failed),
        counts=ImageCounts(
            total=len(image_rows),
            done=len(image_rows) - pending - failed,
            failed=failed,
            pending=pending,
        ),
        timings=JobTimings(
            created_at=created,
            first_started_at=min(starts) if starts else None,
            last_finished_at=max(ends) if ends else None,
            elapsed_seconds=round((last - created).total_seconds(), 3) if last else None,
            mean_download_ms=_mean([r["download_ms"] for r in image_rows]),
            mean_decode_ms=_mean([r["decode_ms"] for r in image_rows]),
            mean_delay_ms=_mean([r["delay_ms"] for r in image_rows]),
            mean_store_ms=_mean([r["store_ms"] for r in image_rows]),
        ),
        visits=visits,
        embedding=EmbeddingCounts(**embedding) if embedding is not None else None,
    )


def _parse_date(name: str, raw: str | None) -> date | None:
    if raw is None or raw == "":
        return None
    try:
        if not _DATE.match(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(f"{name}: expected a date as YYYY-MM-DD (got {raw[:40]!r})") from None


@get(
    "/api/visits",
    operation_id="visits_perimeter",
    summary="Per store and day, the summed perimeter of completed images",
    tags=["jobs"],
    responses=error_responses(e400="A bad date, or startdate after enddate"),
)
async def get_visits(
    services: Services,
    area: str | None = None,
    storeid: str | None = None,
    startdate: str | None = None,
    enddate: str | None = None,
) -> VisitsReport:
    """Filters are optional; dates are the visits' own calendar days, both ends included."""
    start, end = _parse_date("startdate", startdate), _parse_date("enddate", enddate)
    if start and end and start > end:
        raise InvalidInput("startdate: is after enddate")
    rows = await repository.visits_perimeter(
        services.db,
        area=area or None,
        store_id=storeid or None,
        # Visits are dated 1970-2999, so bounds outside that are no bounds (and stay within
        # every engine's DATETIME range; 9999-12-31 has no next day at all).
        start=datetime.combine(start, datetime.min.time()) if start and start > _FIRST else None,
        end=datetime.combine(end + timedelta(days=1), datetime.min.time())
        if end and end < _LAST
        else None,
    )
    results: dict[str, StoreVisits] = {}
    for row in rows:
        store = results.setdefault(
            row["store_id"],
            StoreVisits(
                store_id=row["store_id"],
                area=row["area_code"],
                store_name=row["store_name"],
                data=[],
            ),
        )
        store.data.append(DayPerimeter(date=as_day(row["day"]), perimeter=int(row["perimeter"])))
    return VisitsReport(results=list(results.values()))


ROUTES = [submit_job, get_job_status, get_job_report, get_visits]

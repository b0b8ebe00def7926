"""The jobs tables: submit in one transaction, claim with leases, settle once, report.

Claiming works the same on SQLite, SingleStore and MariaDB, none of which may use RETURNING:
read a few claimable candidates in fair order, then claim each with a compare-and-set UPDATE
(`... AND status = 'pending' AND lease_expires < now`); a row counts as ours only when that
UPDATE changed it, so two processes racing for one image never both get it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from service.clock import Clock, as_datetime, utcnow
from service.db import Database, Row, Session
from service.jobs import extensions

from .validation import NewJob

EPOCH = datetime(1970, 1, 1)  # lease_expires of an unclaimed row: always in the past


def as_day(value: Any) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)[:10]


@dataclass(frozen=True, slots=True)
class ClaimedImage:
    job_id: int
    seq: int
    visit_index: int
    url: str
    attempt: int  # 1 for the first claim; a retake after a crash counts up
    store_id: str
    visit_time: datetime
    store_known: bool


@dataclass(slots=True)
class ImageResult:
    """What the worker learned about one image; becomes its one image_results row."""

    image: ClaimedImage
    status: str  # done | failed
    started_at: datetime
    finished_at: datetime
    worker: str
    error: str | None = None
    width: int | None = None
    height: int | None = None
    perimeter: int | None = None
    blob_key: str | None = None
    content_type: str | None = None
    byte_size: int | None = None
    download_ms: float | None = None
    decode_ms: float | None = None
    delay_ms: float | None = None
    store_ms: float | None = None

    def row(self) -> dict[str, Any]:
        image = self.image
        return {
            "job_id": image.job_id,
            "seq": image.seq,
            "visit_index": image.visit_index,
            "store_id": image.store_id,
            "visit_time": image.visit_time,
            "url": image.url,
            "status": self.status,
            "error": self.error,
            "width": self.width,
            "height": self.height,
            "perimeter": self.perimeter,
            "blob_key": self.blob_key,
            "content_type": self.content_type,
            "byte_size": self.byte_size,
            "attempts": image.attempt,
            "download_ms": self.download_ms,
            "decode_ms": self.decode_ms,
            "delay_ms": self.delay_ms,
            "store_ms": self.store_ms,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "worker": self.worker,
        }


# -- submit -----------------------------------------------------------------------------------
async def create_job(db: Database, job: NewJob) -> int:
    """Write the job, its visits and one pending row per image in one transaction."""
    now = utcnow()

    def write(session: Session) -> int:
        job_id = session.execute(
            "jobs_insert",
            {"created_at": now, "visit_count": len(job.visits), "image_count": job.image_count},
        ).lastrowid
        assert job_id is not None
        head = int(session.fetch_value("jobs_queue_head") or 0)
        session.execute_many(
            "jobs_insert_visit",
            (
                {
                    "job_id": job_id,
                    "visit_index": visit.index,
                    "store_id": visit.store_id,
                    "visit_time": visit.visit_time,
                    "utc_offset_minutes": visit.utc_offset_minutes,
                }
                for visit in job.visits
            ),
        )
        images = ((visit.index, url) for visit in job.visits for url in visit.urls)
        session.execute_many(
            "jobs_insert_image",
            (
                {
                    "job_id": job_id,
                    "seq": seq,
                    "visit_index": visit_index,
                    "url": url,
                    "sched": head + seq,
                    "status": "pending",
                    "lease_owner": None,
                    "lease_expires": EPOCH,
                    "attempts": 0,
                }
                for seq, (visit_index, url) in enumerate(images)
            ),
        )
        return int(job_id)

    return await db.transaction(write)


# -- the queue --------------------------------------------------------------------------------
CLAIM_ROUNDS = 3  # candidate reads per claim when others keep winning the race


def _claimed(row: Row) -> ClaimedImage:
    return ClaimedImage(
        job_id=int(row["job_id"]),
        seq=int(row["seq"]),
        visit_index=int(row["visit_index"]),
        url=row["url"],
        attempt=int(row["attempts"]) + 1,
        store_id=row["store_id"],
        visit_time=as_datetime(row["visit_time"]) or EPOCH,
        store_known=bool(row["store_known"]),
    )


async def claim_images(
    db: Database, owner: str, limit: int, lease_seconds: float, clock: Clock = utcnow
) -> list[ClaimedImage]:
    """Lease up to `limit` claimable images to `owner`, fairest first; `clock` says when
    leases expire and which have."""

    def claim(session: Session) -> list[ClaimedImage]:
        # The clock starts once the write lock is ours: waiting for it must not eat the lease.
        now = clock()
        until = now + timedelta(seconds=lease_seconds)
        claimed: list[ClaimedImage] = []
        # Another process may win every candidate we read (READ COMMITTED engines): read
        # again rather than idle while there is work. (SQLite serialises writers: no race.)
        for _ in range(CLAIM_ROUNDS):
            rows = session.fetch_all("jobs_claim_candidates", {"now": now, "limit": limit})
            for row in rows:
                won = session.execute(
                    "jobs_claim_image",
                    {
                        "owner": owner,
                        "until": until,
                        "now": now,
                        "job_id": row["job_id"],
                        "seq": row["seq"],
                    },
                ).rowcount
                if won == 1:
                    claimed.append(_claimed(row))
            if claimed or not rows:
                break
        return claimed

    return await db.transaction(claim)


async def has_claimable(db: Database, clock: Clock = utcnow) -> bool:
    """Whether any image is claimable now (a read, for idle polling)."""
    return await db.fetch_one("jobs_claimable", {"now": clock()}) is not None


async def settle_images(db: Database, results: Sequence[ImageResult]) -> list[bool]:
    """Record outcomes in one transaction; per result, False when another worker settled
    that image first (its result row is then not written)."""

    def settle(session: Session) -> list[bool]:
        firsts = [
            session.execute(
                "jobs_settle_image",
                {
                    "status": result.status,
                    "epoch": EPOCH,
                    "job_id": result.image.job_id,
                    "seq": result.image.seq,
                },
            ).rowcount
            == 1
            for result in results
        ]
        rows = [result.row() for result, first in zip(results, firsts, strict=True) if first]
        if rows:
            session.execute_many("jobs_insert_result", rows)
        return firsts

    return await db.transaction(settle)


async def settle_image(db: Database, result: ImageResult) -> bool:
    """Record one image's outcome once; False when another worker settled it first."""
    [first] = await settle_images(db, [result])
    return first


async def release_leases(db: Database, owner: str) -> int:
    result = await db.execute("jobs_release_leases", {"owner": owner, "epoch": EPOCH})
    return result.rowcount


# -- reads ------------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class JobCounts:
    total: int
    pending: int
    failed: int

    @property
    def done(self) -> int:
        return self.total - self.pending - self.failed


def _counts(row: Row | None) -> JobCounts:
    row = row or {}
    return JobCounts(
        total=int(row.get("total") or 0),
        pending=int(row.get("pending") or 0),
        failed=int(row.get("failed") or 0),
    )


async def job_state(db: Database, job_id: int) -> tuple[Row, JobCounts, list[Row]] | None:
    """The job row, its image counts and (once settled) its failed results; None if unknown."""

    def read(session: Session) -> tuple[Row, JobCounts, list[Row]] | None:
        job = session.fetch_one("jobs_status_counts", {"job_id": job_id})
        if job is None:
            return None
        counts = _counts(job)
        failed: list[Row] = []
        if counts.pending == 0 and counts.failed:
            failed = session.fetch_all("jobs_failed_results", {"job_id": job_id})
        return job, counts, failed

    return await db.read(read)


async def job_details(
    db: Database, job_id: int
) -> tuple[Row, list[Row], list[Row], dict[str, int] | None] | None:
    """The job, its visits, its images and (when similarity runs) its embedding counts."""

    def read(session: Session) -> tuple[Row, list[Row], list[Row], dict[str, int] | None] | None:
        job = session.fetch_one("jobs_get", {"job_id": job_id})
        if job is None:
            return None
        visits = session.fetch_all("jobs_visits", {"job_id": job_id})
        images = session.fetch_all("jobs_images", {"job_id": job_id})
        return job, visits, images, extensions.embedding_report(session, job_id)

    return await db.read(read)


async def visits_perimeter(
    db: Database,
    area: str | None,
    store_id: str | None,
    start: datetime | None,
    end: datetime | None,
) -> list[Row]:
    return await db.fetch_all(
        "visits_perimeter", {"area": area, "store_id": store_id, "start": start, "end": end}
    )

"""Request and response bodies of the jobs API. Field apps already speak this contract."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

MAX_URL_LENGTH = 2048
MAX_STORE_ID_LENGTH = 64

ImageUrl = Annotated[
    str,
    Meta(
        description="An http(s) URL of a JPEG, PNG, WebP or GIF image.",
        extra_json_schema={"maxLength": MAX_URL_LENGTH, "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://"},
    ),
]


class VisitSubmission(msgspec.Struct, forbid_unknown_fields=True):
    """One store visit: which store, when, and the photos taken there."""

    store_id: Annotated[
        str,
        Meta(
            description="A StoreID from the store master; unknown stores fail the visit.",
            examples=["RP00001"],
            extra_json_schema={"minLength": 1, "maxLength": MAX_STORE_ID_LENGTH},
        ),
    ]
    image_url: Annotated[
        list[ImageUrl],
        Meta(description="At least one image URL.", extra_json_schema={"minItems": 1}),
    ]
    visit_time: Annotated[
        str,
        Meta(
            description="ISO-8601 date and time, with or without a zone "
            "(`YYYY-MM-DD HH:MM:SS` is accepted too).",
            examples=["2026-11-21T10:00:00+05:30"],
        ),
    ]


class JobSubmission(msgspec.Struct, forbid_unknown_fields=True):
    """A job: `count` must equal the number of visits."""

    count: Annotated[
        int, Meta(description="The number of visits.", extra_json_schema={"minimum": 1})
    ]
    visits: Annotated[list[VisitSubmission], Meta(extra_json_schema={"minItems": 1})]


class JobCreated(msgspec.Struct):
    """The job is stored; poll `/api/status?jobid=` for its state."""

    job_id: int


JobState = Literal["ongoing", "completed", "failed"]


class StoreFailure(msgspec.Struct):
    """Why a store's visit failed: the first failing image's reason (and how many more)."""

    store_id: str
    error: str


class JobStatus(msgspec.Struct, omit_defaults=True):
    """`ongoing` until every image is settled; `error` lists failed stores when `failed`."""

    job_id: int
    status: JobState
    error: list[StoreFailure] | None = None


class ImageCounts(msgspec.Struct):
    total: int
    done: int
    failed: int
    pending: int


class JobTimings(msgspec.Struct):
    """Wall-clock span of the job and mean per-image stage times (settled images only)."""

    created_at: datetime
    first_started_at: datetime | None
    last_finished_at: datetime | None
    elapsed_seconds: float | None
    mean_download_ms: float | None
    mean_decode_ms: float | None
    mean_delay_ms: float | None
    mean_store_ms: float | None


class ImageReport(msgspec.Struct):
    """One image of a visit; measurements are null until it is done."""

    index: int
    url: str
    status: Literal["pending", "done", "failed"]
    attempts: int
    width: int | None = None
    height: int | None = None
    perimeter: int | None = None
    blob_key: str | None = None
    blob_url: str | None = None
    error: str | None = None
    started_at: datetime | None = None
    finished_at: datetime | None = None


class VisitReport(msgspec.Struct):
    """A visit with its store (null name: not in the store master) and its images."""

    visit_index: int
    store_id: str
    store_name: str | None
    area_code: str | None
    visit_time: Annotated[
        str,
        Meta(
            description="The visit's wall-clock time as submitted (ISO-8601), with its UTC "
            "offset only when the submission gave one.",
            examples=["2026-11-21T10:00:00+05:30"],
        ),
    ]
    images: list[ImageReport]


class EmbeddingCounts(msgspec.Struct):
    """The job's done images by their embedding for similarity, which the background
    catch-up does after the job (EMBED_JOB_IMAGES: all, none or a sample): embedded, still
    waiting, or left out of the sample."""

    embedded: int
    waiting: int
    not_sampled: int


class JobReport(msgspec.Struct):
    """Everything about one job: state, counts, timings, and per visit each image's result."""

    job_id: int
    status: JobState
    counts: ImageCounts
    timings: JobTimings
    visits: list[VisitReport]
    embedding: EmbeddingCounts | None = None


class DayPerimeter(msgspec.Struct):
    date: str
    perimeter: int


class StoreVisits(msgspec.Struct):
    """Per day, the summed perimeter of a store's completed images."""

    store_id: str
    area: str
    store_name: str
    data: list[DayPerimeter]


class VisitsReport(msgspec.Struct):
    results: list[StoreVisits]

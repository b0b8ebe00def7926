"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

import msgspec
from litestar import Response, get
from litestar.openapi import ResponseSpec

from service.services import Services


class Health(msgspec.Struct):
    status: str


class Readiness(msgspec.Struct):
    status: str
    database: str
    storage: str


class NotReady(msgspec.Struct):
    """503 body: which dependency failed, and how."""

    error: str
    status: str
    database: str
    storage: str


@get("/healthz", operation_id="healthz", summary="Liveness: the process answers", tags=["health"])
async def healthz() -> Health:
    return Health(status="ok")


# A dependency that accepts connections but never answers must not hang the probe (the S3
# client's own read timeout is a minute, with retries).
PROBE_TIMEOUT = 3.0


async def _check(probe: Awaitable[object]) -> str:
    try:
        await asyncio.wait_for(probe, PROBE_TIMEOUT)
    except TimeoutError:
        return f"error: no answer within {PROBE_TIMEOUT:g} s"
    except Exception as exc:  # any failure means not ready; say which
        return f"error: {type(exc).__name__}: {exc}"[:300]
    return "ok"


async def _database(services: Services) -> None:
    await services.db.ping()
    await services.db.check_writable()


@get(
    "/readyz",
    operation_id="readyz",
    summary="Readiness: the database answers and accepts writes, the blob store answers",
    tags=["health"],
    responses={
        503: ResponseSpec(data_container=NotReady, description="A dependency does not answer")
    },
)
async def readyz(services: Services) -> Response[Readiness | NotReady]:
    """Ready when the database answers a query and accepts a write (a no-op in a transaction
    that is rolled back: a read-only database is not ready), and the blob store answers."""
    database, storage = await asyncio.gather(
        _check(_database(services)), _check(asyncio.to_thread(services.blobs.ping))
    )
    if database == storage == "ok":
        return Response(Readiness(status="ready", database=database, storage=storage))
    body = NotReady(error="not ready", status="not ready", database=database, storage=storage)
    return Response(body, status_code=503)

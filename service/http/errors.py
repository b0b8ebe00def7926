"""The one mapping from errors to HTTP: every 4xx and 5xx body is `{"error": "..."}`."""

from __future__ import annotations

from typing import Any

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from service import errors
from service.db import DatabaseReadOnly, DatabaseUnavailable
from service.imaging import BudgetExhausted
from service.storage.base import BlobError

log = structlog.get_logger(__name__)

STATUS = {
    errors.InvalidInput: 400,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.PreconditionRequired: 428,
    errors.TooLarge: 413,
    errors.Unavailable: 503,
}


def error_response(status: int, message: str, **detail: Any) -> Response[dict[str, Any]]:
    return Response({"error": message, **detail}, status_code=status, media_type=MediaType.JSON)


def _validation_message(exc: ValidationException) -> str:
    extra = exc.extra if isinstance(exc.extra, list) else []
    parts = []
    for item in extra:
        if isinstance(item, dict):
            key = item.get("key")
            source = item.get("source", "")
            source = getattr(source, "value", source)  # ParamType.QUERY -> "query"
            where = f"{source} {key}".strip() if key else ""
            parts.append(f"{where}: {item.get('message', '')}".strip(": "))
    return "; ".join(parts) or exc.detail or "invalid request"


def on_service_error(_: Request, exc: errors.ServiceError) -> Response[dict[str, Any]]:
    status = next(code for cls, code in STATUS.items() if isinstance(exc, cls))
    return error_response(status, exc.message, **exc.detail)


def on_http_exception(_: Request, exc: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(exc, ValidationException):
        return error_response(400, _validation_message(exc))
    headers = getattr(exc, "headers", None)
    response = error_response(exc.status_code, exc.detail or "error")
    if headers:
        response.headers.update(headers)
    return response


def on_unavailable(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.warning("dependency unavailable", path=request.url.path, error=str(exc))
    return error_response(503, "service temporarily unavailable, retry later")


def on_read_only(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.warning("database refuses writes", path=request.url.path, error=str(exc))
    return error_response(503, "the database refuses writes (read-only), retry later")


def on_budget_exhausted(request: Request, exc: BudgetExhausted) -> Response[dict[str, Any]]:
    """The process decodes as many pixels as PIXEL_BUDGET allows and this request's image did
    not get its turn within PIXEL_WAIT: 503, and when to try again."""
    log.warning("pixel budget exhausted", path=request.url.path, error=str(exc))
    response = error_response(503, "busy decoding other images, retry later")
    response.headers["Retry-After"] = str(exc.retry_after)
    return response


def on_unexpected(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled error", path=request.url.path, method=request.method)
    return error_response(HTTP_500_INTERNAL_SERVER_ERROR, "internal server error")


EXCEPTION_HANDLERS = {
    errors.ServiceError: on_service_error,
    HTTPException: on_http_exception,
    DatabaseUnavailable: on_unavailable,
    DatabaseReadOnly: on_read_only,
    BlobError: on_unavailable,
    BudgetExhausted: on_budget_exhausted,
    Exception: on_unexpected,
}

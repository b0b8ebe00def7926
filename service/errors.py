"""Domain errors: what went wrong in our terms. `service.http.errors` maps them to HTTP."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    """Base for errors a client can act on. `detail` goes into the JSON body as is."""

    def __init__(self, message: str, **detail: Any) -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail


class InvalidInput(ServiceError):
    """The request is well-formed HTTP but its content is unacceptable (400)."""


class NotFound(ServiceError):
    """The thing asked for does not exist (404)."""


class Conflict(ServiceError):
    """The request clashes with what is stored (409)."""


class PreconditionRequired(ServiceError):
    """A change that must name the version it was based on did not (428)."""


class TooLarge(ServiceError):
    """A body, upload or image exceeds a documented limit (413)."""


class Unavailable(ServiceError):
    """A dependency (database, blob store) is down; retry later (503)."""

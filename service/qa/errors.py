"""The QA session flow's refusals, each with the HTTP status its base class maps to."""

from __future__ import annotations

from service.errors import Conflict, InvalidInput, NotFound


class SessionExists(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Session already exists")


class NothingToValidate(InvalidInput):
    def __init__(self) -> None:
        super().__init__("Not enough snapshots to validate")


class NoOpenSession(NotFound):
    def __init__(self) -> None:
        super().__init__("No open session")


class NotInSession(NotFound):
    def __init__(self, detail: str = "Snapshot not found in this session") -> None:
        super().__init__(detail)


EXPIRED = "Session expired; start a new one"


class AlreadyAnswered(Conflict):
    def __init__(self) -> None:
        super().__init__("Snapshot already answered")


class Expired(Exception):  # noqa: N818 - a signal, not an error
    """The session is idle past its TTL: release it, then answer 404 (NotInSession)."""

"""What a lead's request says: who makes it (the `username` header), its JSON body read
strictly, and the snapshot version it is based on (If-Match, or a `version` field)."""

from __future__ import annotations

import re
from typing import Annotated, TypeVar

import msgspec
from litestar.params import HeaderParameter

from service import strict_json
from service.errors import InvalidInput, PreconditionRequired
from service.http.schema import MAX_ROW_ID
from service.http.users import qa_username

T = TypeVar("T", bound=msgspec.Struct)

_IF_MATCH = re.compile(r'\s*"?([0-9]{1,19})"?\s*')
USER = "Missing or invalid `username` header (the lead: 1 to 64 letters, digits, . _ -)"


def lead_username(
    username: Annotated[
        str | None,
        HeaderParameter(name="username", required=False, description="The lead making it"),
    ] = None,
) -> str:
    """Who makes a change: the `username` header (as on the QA API), kept in its record."""
    return qa_username(username)


IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="if-match",
        required=False,
        description='The snapshot\'s ETag (its version, "3") that this change is based on',
    ),
]


def decode(raw: bytes, struct: type[T], *, required: bool) -> T:
    """A JSON body read strictly (no lenient conversions, no repeated keys)."""
    if not raw.strip():
        if required:
            raise InvalidInput("the body must be a JSON object, got an empty body")
        return struct()
    try:
        return strict_json.decode(raw, struct)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"bad body: {exc}") from None


def version_of(if_match: str | None, field: int | None) -> int:
    header = None
    if if_match is not None and if_match.strip():
        found = _IF_MATCH.fullmatch(if_match)
        if found is None or int(found.group(1)) > MAX_ROW_ID:
            raise InvalidInput('If-Match must be the snapshot\'s ETag: its version, as "3"')
        header = int(found.group(1))
    if header is not None and field is not None and header != field:
        raise InvalidInput(f"If-Match ({header}) and version ({field}) disagree")
    version = header if header is not None else field
    if version is None:
        raise PreconditionRequired(
            "name the snapshot version this change is based on: If-Match with its ETag, or a "
            "version field (GET /api/snapshots/{id} gives both)"
        )
    return version

"""The one guard for image uploads: refuse by Content-Length before reading the body."""

from __future__ import annotations

from litestar import Request
from litestar.exceptions import HTTPException

from service.errors import InvalidInput, TooLarge

# Room for the multipart envelope and the text fields around the file itself.
FORM_OVERHEAD = 64 * 1024


async def check_upload_size(request: Request) -> None:
    """A `before_request` hook for routes that take one image file (MAX_UPLOAD_BYTES)."""
    limit = request.app.state.settings.max_upload_bytes
    length = request.headers.get("content-length")
    if length is None:
        raise HTTPException(status_code=411, detail="uploads need a Content-Length header")
    if not (length.isascii() and length.isdigit()):
        raise InvalidInput("invalid Content-Length header")
    if int(length) > limit + FORM_OVERHEAD:
        raise TooLarge(f"the upload is {length} bytes; the limit is {limit} bytes per image")

"""The guards for image uploads: refuse by Content-Length before reading the body, and a 400
for an image sent as a text field."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException

from service.errors import InvalidInput, TooLarge
from service.http.errors import error_response, on_unexpected

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


# Litestar's form parser decodes a part without a filename as UTF-8 text, so an image sent
# that way (`curl -F 'image=<photo.png'`, an empty or malformed quoted filename) fails there.
# The same for a part whose declared charset is unknown or not a text encoding
# (`charset=bogus`, `charset=zlib`: LookupError) or that its codec refuses (UnicodeError).
TEXT_PART_NOT_TEXT = (
    "a form field without a filename must be text in a known charset (UTF-8); send the "
    "image as a file part with a filename (curl -F image=@photo.png)"
)


def on_text_part_not_text(request: Request, exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, KeyError | IndexError):  # LookupError's other children: our own bugs
        return on_unexpected(request, exc)
    return error_response(400, TEXT_PART_NOT_TEXT)


# For the `exception_handlers` of routes that take an uploaded image.
UPLOAD_ERROR_HANDLERS = {UnicodeError: on_text_part_not_text, LookupError: on_text_part_not_text}

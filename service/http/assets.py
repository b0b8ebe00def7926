"""Static files the service serves itself (the QA page's, Swagger UI's): an allowlist of
names, each immutable under its URL (the URLs carry a version or a content hash)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from litestar import Response

from service.errors import NotFound

IMMUTABLE = {
    "Cache-Control": "public, max-age=31536000, immutable",
    "X-Content-Type-Options": "nosniff",
}


def asset_response(
    name: str, media_types: Mapping[str, str], read: Callable[[str], bytes]
) -> Response[bytes]:
    """The file `name` if the allowlist `media_types` has it (404 otherwise)."""
    media_type = media_types.get(name)
    if media_type is None:
        raise NotFound(f"no such file {name!r}")
    return Response(read(name), media_type=media_type, headers=IMMUTABLE)

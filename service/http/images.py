"""Serve blobs of the local store at `/images/<key>` (S3 stores hand out presigned URLs)."""

from __future__ import annotations

import asyncio
import mimetypes

from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec

from service.errors import NotFound
from service.http.schema import ErrorBody
from service.services import Services
from service.storage.base import BlobNotFound, InvalidKey


@get(
    "/images/{key:path}",
    operation_id="get_image",
    summary="A stored image's bytes, by content key",
    tags=["images"],
    media_type="application/octet-stream",
    responses={
        404: ResponseSpec(
            ErrorBody,
            description="No image with this key (or a malformed key)",
            generate_examples=False,
        ),
    },
)
async def get_image(key: str, services: Services) -> Response[bytes]:
    key = key.lstrip("/")
    try:
        data = await asyncio.to_thread(services.blobs.get, key)
    except (BlobNotFound, InvalidKey):
        raise NotFound(f"no image with key {key!r}") from None
    media_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
    return Response(
        data,
        media_type=media_type,
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )

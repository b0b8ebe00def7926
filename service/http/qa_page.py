"""The QA web page: `GET /qa/` (HTML), its stylesheet and ES modules under
`/qa/static/<version>/<name>`, and the one read the page needs beyond the QA API, confirmed
snapshots of a product.

The page is plain files in `service/web/qa`; no build step. They are read once per process. The
version in the path is a hash of the files' bytes, so a module's relative imports (`./api.js`)
resolve under the same version, and every file can be cached for a year while a new release is
still picked up on the next page load.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Annotated

import msgspec
from litestar import MediaType, Response, get
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from service.errors import NotFound
from service.http.assets import IMMUTABLE
from service.http.schema import ErrorBody, RowId
from service.http.users import qa_username
from service.services import Services

WEB_DIR = Path(__file__).resolve().parents[1] / "web" / "qa"
# What `/qa/static/` serves: the folder's stylesheets and modules, nothing else under
# service/web. Module scripts need a JavaScript MIME type (Litestar adds the charset).
_MEDIA_TYPES = {".css": "text/css", ".js": "text/javascript"}
_ASSETS = {p.name: _MEDIA_TYPES[p.suffix] for p in WEB_DIR.iterdir() if p.suffix in _MEDIA_TYPES}

# Scripts and styles only from here; images from anywhere (S3 stores hand out presigned URLs
# on another origin); no framing.
_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


@cache
def _asset(name: str) -> bytes:
    return (WEB_DIR / name).read_bytes()


@cache
def assets_version() -> str:
    digest = hashlib.sha256()
    for name in sorted(_ASSETS):
        digest.update(name.encode() + b"\0" + _asset(name))
    return digest.hexdigest()[:12]


@cache
def _index_html() -> bytes:
    html = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    return html.replace("{{assets}}", f"/qa/static/{assets_version()}").encode()


@get(
    ["/qa", "/qa/"],
    operation_id="qa_page",
    summary="The QA review page",
    tags=["qa"],
    include_in_schema=False,
    media_type=MediaType.HTML,
)
async def qa_page() -> Response[bytes]:
    return Response(
        _index_html(),
        media_type=MediaType.HTML,
        headers={
            "Cache-Control": "no-cache",
            "Content-Security-Policy": _CSP,
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "same-origin",
        },
    )


@get(
    "/qa/static/{version:str}/{name:str}",
    operation_id="qa_page_asset",
    summary="The QA page's stylesheet and modules",
    tags=["qa"],
    include_in_schema=False,
)
async def qa_static(version: str, name: str) -> Response[bytes]:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise NotFound(f"no such file {name!r}")
    # Another release's version still gets today's file, but not for a year.
    headers = (
        IMMUTABLE if version == assets_version() else {**IMMUTABLE, "Cache-Control": "no-cache"}
    )
    return Response(_asset(name), media_type=media_type, headers=headers)


class ConfirmedSnapshot(msgspec.Struct):
    """A snapshot of the product that QA consensus confirmed (status `match`)."""

    snapshot_id: int
    image_url: str


@get(
    "/qa/products/{product_id:int}/confirmed",
    operation_id="qa_confirmed_snapshots",
    summary="Snapshots of a product that QA confirmed, newest first (examples for reviewers)",
    tags=["qa"],
    dependencies={"qa_user": Provide(qa_username, sync_to_thread=False)},
    responses={
        400: ResponseSpec(
            ErrorBody,
            description="Missing or invalid `username` header, a limit out of range (1 to 12), "
            "or a product id out of range",
            generate_examples=False,
        ),
        404: ResponseSpec(
            ErrorBody, description="The product id is not an integer", generate_examples=False
        ),
    },
)
async def confirmed_snapshots(
    services: Services,
    qa_user: str,
    product_id: RowId,
    limit: Annotated[int, Parameter(ge=1, le=12)] = 3,
) -> list[ConfirmedSnapshot]:
    """An empty list for a product without confirmed snapshots (or no such product)."""
    rows = await services.db.fetch_all(
        "qa_page_confirmed_snapshots", {"product_id": product_id, "limit": limit}
    )
    url = services.blobs.url
    return [ConfirmedSnapshot(snapshot_id=r["id"], image_url=url(r["image_key"])) for r in rows]


ROUTES = [qa_page, qa_static, confirmed_snapshots]

"""The QA web page: `GET /qa/` (HTML), `/qa/static/{qa.css,qa.js}` and the one read the page
needs beyond the QA API, confirmed snapshots of a product.

The page is plain files in `service/web`; no build step. They are read once per process. Asset
URLs carry a hash of the assets' bytes (`?v=...`), so browsers cache them for a year and still
pick up a new release on the next page load.
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

from service.http.assets import asset_response
from service.http.schema import ErrorBody, RowId
from service.http.users import qa_username
from service.services import Services

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
# The files `/qa/static/` serves (an allowlist: nothing else under service/web is reachable).
_ASSETS = {"qa.css": "text/css", "qa.js": "text/javascript"}  # Litestar adds the charset

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
def _index_html() -> bytes:
    digest = hashlib.sha256()
    for name in sorted(_ASSETS):
        digest.update(_asset(name))
    html = (WEB_DIR / "index.html").read_text(encoding="utf-8")
    return html.replace("{{assets_version}}", digest.hexdigest()[:12]).encode()


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
    "/qa/static/{name:str}",
    operation_id="qa_page_asset",
    summary="The QA page's stylesheet and script",
    tags=["qa"],
    include_in_schema=False,
)
async def qa_static(name: str) -> Response[bytes]:
    return asset_response(name, _ASSETS, _asset)  # URLs carry ?v=<hash>


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

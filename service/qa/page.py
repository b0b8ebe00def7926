"""The QA web page: `GET /qa/` (HTML), its stylesheet and ES modules under
`/qa/static/<version>/<name>` (plain files in `service/web/qa`; see `service.http.pages`),
and the one read the page needs beyond the QA API, confirmed snapshots of a product.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import MediaType, Response, get
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from service.http.pages import WebPage
from service.http.schema import ErrorBody, RowId
from service.http.users import qa_username
from service.services import Services

PAGE = WebPage("qa", "/qa/static")


@get(
    ["/qa", "/qa/"],
    operation_id="qa_page",
    summary="The QA review page",
    tags=["qa"],
    include_in_schema=False,
    media_type=MediaType.HTML,
)
async def qa_page() -> Response[bytes]:
    return PAGE.page()


@get(
    "/qa/static/{version:str}/{name:str}",
    operation_id="qa_page_asset",
    summary="The QA page's stylesheet and modules",
    tags=["qa"],
    include_in_schema=False,
)
async def qa_static(version: str, name: str) -> Response[bytes]:
    return PAGE.asset(version, name)


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

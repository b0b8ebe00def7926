"""The lead's desk page: `GET /qa/lead/` (HTML) and its stylesheet and ES modules under
`/qa/lead/static/<version>/<name>` (plain files in `service/web/lead`; see
`service.http.pages`)."""

from __future__ import annotations

from litestar import MediaType, Response, get

from service.http.pages import WebPage

PAGE = WebPage("lead", "/qa/lead/static")


@get(
    ["/qa/lead", "/qa/lead/"],
    operation_id="lead_desk_page",
    summary="The QA lead's desk",
    tags=["lead"],
    include_in_schema=False,
    media_type=MediaType.HTML,
)
async def desk_page() -> Response[bytes]:
    return PAGE.page()


@get(
    "/qa/lead/static/{version:str}/{name:str}",
    operation_id="lead_desk_asset",
    summary="The desk's stylesheet and modules",
    tags=["lead"],
    include_in_schema=False,
)
async def desk_static(version: str, name: str) -> Response[bytes]:
    return PAGE.asset(version, name)


ROUTES = [desk_page, desk_static]

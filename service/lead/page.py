"""The lead's desk page: `GET /qa/lead/` (HTML) and its files under
`/qa/lead/static/<version>/<name>`: plain HTML, CSS and ES modules in `service/web/lead`, no
build step.

The version in the path is a hash of the files' bytes, so a module's relative imports
(`./api.js`) resolve under the same version, and every file can be cached for a year while a
new release is still picked up on the next page load.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from litestar import MediaType, Response, get

from service.errors import NotFound
from service.http.assets import IMMUTABLE

WEB_DIR = Path(__file__).resolve().parents[1] / "web" / "lead"
# The files served (an allowlist: nothing else under service/web is reachable).
_ASSETS = {
    "desk.css": "text/css",
    "desk.js": "text/javascript",
    "api.js": "text/javascript",
    "grid.js": "text/javascript",
    "picker.js": "text/javascript",
    "product.js": "text/javascript",
    "history.js": "text/javascript",
    "images.js": "text/javascript",
    "actions.js": "text/javascript",
    "bar.js": "text/javascript",
    "keys.js": "text/javascript",
    "screens.js": "text/javascript",
    "state.js": "text/javascript",
    "suspects.js": "text/javascript",
    "tabs.js": "text/javascript",
    "ui.js": "text/javascript",
}
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
    return html.replace("{{assets}}", f"/qa/lead/static/{assets_version()}").encode()


@get(
    ["/qa/lead", "/qa/lead/"],
    operation_id="lead_desk_page",
    summary="The QA lead's desk",
    tags=["lead"],
    include_in_schema=False,
    media_type=MediaType.HTML,
)
async def desk_page() -> Response[bytes]:
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
    "/qa/lead/static/{version:str}/{name:str}",
    operation_id="lead_desk_asset",
    summary="The desk's stylesheet and modules",
    tags=["lead"],
    include_in_schema=False,
)
async def desk_static(version: str, name: str) -> Response[bytes]:
    media_type = _ASSETS.get(name)
    if media_type is None:
        raise NotFound(f"no such file {name!r}")
    # Another release's version still gets today's file, but not for a year.
    headers = IMMUTABLE if version == assets_version() else {"Cache-Control": "no-cache"}
    return Response(_asset(name), media_type=media_type, headers=headers)


ROUTES = [desk_page, desk_static]

"""The API docs (Swagger UI at /core/public/v1/docs) served wholly by the service.

Litestar's SwaggerRenderPlugin loads Swagger UI's script, stylesheet and favicon from a CDN, so
the page is blank on a closed network (retail back offices, CI runners). The files come from
the `swagger-ui-bundle-v2` package (Swagger UI's own distribution) instead, and the plugin
points at the route below.
"""

from __future__ import annotations

from functools import cache

from litestar import Response, get
from litestar.openapi.plugins import SwaggerRenderPlugin
from swagger_ui_bundle import swagger_ui_path

from service.http.assets import asset_response

OPENAPI_PATH = "/core/public/v1"
ASSETS_PATH = f"{OPENAPI_PATH}/swagger-ui"
SWAGGER_UI_VERSION = swagger_ui_path.name.removeprefix("swagger-ui-")
# The files served (an allowlist: nothing else in the package is reachable).
_ASSETS = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


def _url(name: str) -> str:
    return f"{ASSETS_PATH}/{name}?v={SWAGGER_UI_VERSION}"  # a new version is a new URL


def swagger_ui() -> SwaggerRenderPlugin:
    """The docs page at `{OPENAPI_PATH}/docs`, loading nothing from another host."""
    return SwaggerRenderPlugin(
        path="/docs",
        js_url=_url("swagger-ui-bundle.js"),
        css_url=_url("swagger-ui.css"),
        standalone_preset_js_url=_url("swagger-ui-standalone-preset.js"),
        favicon=f"<link rel='icon' type='image/png' href='{_url('favicon-32x32.png')}'>",
    )


@cache
def _asset(name: str) -> bytes:
    return (swagger_ui_path / name).read_bytes()


@get(f"{ASSETS_PATH}/{{name:str}}", include_in_schema=False, sync_to_thread=False)
def swagger_asset(name: str) -> Response[bytes]:
    return asset_response(name, _ASSETS, _asset)  # URLs carry ?v=<version>

"""Swagger UI at /core/public/v1/docs works with no internet: every file it loads is served
by the service (from the swagger-ui-bundle-v2 package), never by a CDN."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.config import Settings
from tests.conftest import make_app
from tests.e2e.conftest import _serve, screenshot

DOCS = "/core/public/v1/docs"


def test_the_docs_page_links_only_files_the_service_serves(client: TestClient[Litestar]) -> None:
    page = client.get(DOCS)
    assert page.status_code == 200
    links = re.findall(r"""(?:src|href)=["']([^"']+)["']""", page.text)
    assert len(links) == 4, links  # script, preset, stylesheet, favicon
    for link in links:
        assert urlsplit(link).netloc == "" and link.startswith("/core/public/v1/swagger-ui/")
        asset = client.get(link)
        assert asset.status_code == 200, link
        assert asset.content and "immutable" in asset.headers["cache-control"]
    assert "https://" not in page.text.split("<body")[0]
    assert client.get("/core/public/v1/swagger-ui/index.html").status_code == 404
    assert client.get("/core/public/v1/swagger-ui/..%2F..%2F__init__.py").status_code == 404


@pytest.fixture
def live_url(settings: Settings) -> Iterator[str]:
    server, thread, port = _serve(make_app(settings))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_the_docs_page_lists_the_operations_with_the_network_cut_off(
    browser: Any, live_url: str
) -> None:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    elsewhere: list[str] = []

    def offline(route: Any) -> None:
        """Only the service is reachable, as on a closed network."""
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort("internetdisconnected")

    context.route("**/*", offline)
    try:
        page = context.new_page()
        page.goto(f"{live_url}{DOCS}")
        page.wait_for_selector(".opblock", timeout=15_000)
        operations = page.locator(".opblock-summary-path").all_inner_texts()
        assert "/api/submit" in [path.strip() for path in operations]
        assert any("/qa/session/" in path for path in operations)
        assert page.locator(".opblock").count() >= 20
        assert page.locator(".info .title").inner_text().startswith("Retail Pulse")
        screenshot(page, "docs-offline")
    finally:
        context.close()
    assert elsewhere == []

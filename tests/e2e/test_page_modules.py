"""The QA page and the lead's desk are native ES modules with no build step: each module is
served as JavaScript (browsers refuse a module script of another MIME type), under the page's
versioned path, preloaded by the page and imported by some module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

WEB = Path(__file__).resolve().parents[2] / "service" / "web"
IMPORT = re.compile(r'^import (?:.+ from )?"\./([^"]+)";$', re.M)


PAGES = [("/qa/", "qa", "main.js"), ("/qa/lead/", "lead", "desk.js")]  # page, folder, entry


@pytest.mark.parametrize(("page", "folder", "entry"), PAGES)
def test_every_module_is_served_as_javascript_preloaded_and_imported(
    client: TestClient[Litestar], page: str, folder: str, entry: str
) -> None:
    html = client.get(page)
    assert "script-src 'self'" in html.headers["content-security-policy"]
    scripts = re.findall(r'<script type="module" src="(/qa/[^"]+/[0-9a-f]{12}/)([^"]+)"', html.text)
    assert [name for _, name in scripts] == [entry]
    base = scripts[0][0]
    preloaded = re.findall(
        r'<link rel="modulepreload" href="' + re.escape(base) + '([^"]+)"', html.text
    )
    on_disk = {p.name for p in (WEB / folder).glob("*.js")}
    assert set(preloaded) | {entry} == on_disk and len(preloaded) == len(on_disk) - 1
    imported: set[str] = set()
    for name in sorted(on_disk):
        module = client.get(base + name)
        assert module.status_code == 200, name
        assert module.headers["content-type"] == "text/javascript; charset=utf-8", name
        assert "immutable" in module.headers["cache-control"], name
        imported |= set(IMPORT.findall(module.text))
    assert imported == on_disk - {entry}  # no module left over, none missing

"""The service's own web pages (the QA page, the lead's desk): plain HTML, CSS and ES modules
from one folder of `service/web`, no build step.

A page's files are served under `<prefix>/<version>/<name>`, the version being a hash of the
files' bytes: a module's relative imports (`./api.js`) resolve under the same version, so
every file can be cached for a year while a new release is still picked up on the next page
load. Only the folder's `.css` and `.js` files are reachable (module scripts need a JavaScript
MIME type; Litestar adds the charset).
"""

from __future__ import annotations

import hashlib
from functools import cached_property
from pathlib import Path

from litestar import MediaType, Response

from service.errors import NotFound
from service.http.assets import IMMUTABLE

WEB_DIR = Path(__file__).resolve().parents[1] / "web"
MEDIA_TYPES = {".css": "text/css", ".js": "text/javascript"}

# Scripts and styles only from here; images from anywhere (S3 stores hand out presigned URLs
# on another origin); no framing.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src * data: blob:; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Cache-Control": "no-cache",
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class WebPage:
    """One page: `service/web/<folder>/index.html` and its files, read once per process."""

    def __init__(self, folder: str, static_prefix: str) -> None:
        self.folder = WEB_DIR / folder
        self.static_prefix = static_prefix

    @cached_property
    def media_types(self) -> dict[str, str]:
        return {
            path.name: MEDIA_TYPES[path.suffix]
            for path in sorted(self.folder.iterdir())
            if path.suffix in MEDIA_TYPES
        }

    @cached_property
    def files(self) -> dict[str, bytes]:
        return {name: (self.folder / name).read_bytes() for name in self.media_types}

    @cached_property
    def version(self) -> str:
        digest = hashlib.sha256()
        for name, data in sorted(self.files.items()):
            digest.update(name.encode() + b"\0" + data)
        return digest.hexdigest()[:12]

    @cached_property
    def html(self) -> bytes:
        text = (self.folder / "index.html").read_text(encoding="utf-8")
        return text.replace("{{assets}}", f"{self.static_prefix}/{self.version}").encode()

    def page(self) -> Response[bytes]:
        return Response(self.html, media_type=MediaType.HTML, headers=PAGE_HEADERS)

    def asset(self, version: str, name: str) -> Response[bytes]:
        media_type = self.media_types.get(name)
        if media_type is None:
            raise NotFound(f"no such file {name!r}")
        # Another release's version still gets today's file, but not for a year.
        fresh = version == self.version
        headers = IMMUTABLE if fresh else {**IMMUTABLE, "Cache-Control": "no-cache"}
        return Response(self.files[name], media_type=media_type, headers=headers)

"""Download one image safely: SSRF checks on every hop, a size cap, bounded redirects.

The client is aiohttp (its C HTTP parser and keyed connection pool cost a fraction of
httpx's per request). SSRF checks live where the addresses are chosen:

- a host name is resolved by `resolver.GuardedResolver`, which refuses the whole name if
  any address it resolves to is off limits; aiohttp then connects only to the addresses the resolver
  returned, so a DNS answer that changes between the check and the connect (DNS rebinding)
  cannot point us elsewhere. Pooled connections are keyed by host name, and TLS checks the
  certificate against that name;
- an IP-literal host never reaches a resolver, so `SafeFetcher` checks it itself;
- redirects are followed by hand, each hop checked the same way.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import aiohttp
from yarl import URL

from service.config import Settings

from .resolver import AddressRefused, GuardedResolver, refused_message
from .validation import check_host

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


class FetchError(Exception):
    """The image could not be downloaded; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class Fetched:
    data: bytearray  # the body, in one buffer of its size (see `_read_capped`)
    content_type: str | None
    final_url: str


def make_session(
    resolver: GuardedResolver, *, connections: int, timeout: float
) -> aiohttp.ClientSession:
    """The one download client of a process: no cookies, no proxies from the environment,
    no transparent decompression (images are compressed already; no gzip bombs)."""
    connector = aiohttp.TCPConnector(
        resolver=resolver, limit=connections, ttl_dns_cache=10, enable_cleanup_closed=True
    )
    return aiohttp.ClientSession(
        connector=connector,
        # Per connect and per read, as DOWNLOAD_TIMEOUT says; the whole image is bounded by
        # the worker's processing deadline.
        timeout=aiohttp.ClientTimeout(
            total=None, sock_connect=min(5.0, timeout), sock_read=timeout
        ),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        trust_env=False,
        headers={"Accept": "image/*", "Accept-Encoding": "identity"},
    )


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


class SafeFetcher:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        resolver: GuardedResolver,
        *,
        max_bytes: int,
        max_redirects: int = 3,
    ) -> None:
        self.session = session
        self.resolver = resolver
        self.max_bytes = max_bytes
        self.max_redirects = max_redirects

    @classmethod
    def for_settings(cls, settings: Settings) -> SafeFetcher:
        """The job worker's own download client (call inside the event loop; `close` it)."""
        resolver = GuardedResolver(allow_private=settings.allow_private_image_urls)
        session = make_session(
            resolver,
            connections=max(settings.job_concurrency, 10),
            timeout=settings.download_timeout,
        )
        return cls(session, resolver, max_bytes=settings.max_image_bytes)

    async def close(self) -> None:
        await self.session.close()
        await self.resolver.close()  # the connector leaves a resolver it was given open

    def _check(self, url: URL) -> None:
        """Scheme and host of one hop; an IP literal is checked here (no resolver sees it)."""
        if url.scheme not in ("http", "https") or not url.host:
            raise FetchError(f"image download failed: {str(url)[:200]} is not an http(s) URL")
        try:
            address = ipaddress.ip_address(url.host)
        except ValueError:
            # A name, which the resolver checks, unless it is a legacy numeric form
            # (`2130706433`, `127.1`, `0177.0.0.1`) that the socket layer would read as an
            # address without asking any resolver: those are refused, on every hop.
            try:
                check_host(url.raw_host or "")
            except ValueError as exc:
                raise FetchError(f"image URL refused: {exc}") from None
            return
        reason = self.resolver.refusal(address)
        if reason:
            raise FetchError(refused_message(url.host, address, reason))

    async def fetch(self, url: str) -> Fetched:
        """The image's bytes, or FetchError with a reason naming the URL."""
        try:
            current = URL(url, encoded=False)
        except (ValueError, TypeError) as exc:
            raise FetchError(f"image download failed: invalid URL {url[:200]!r} ({exc})") from None
        for _hop in range(self.max_redirects + 1):
            self._check(current)
            try:
                async with self.session.get(current, allow_redirects=False) as response:
                    if response.status in REDIRECT_CODES:
                        current = self._redirect(current, response, url)
                        continue
                    if not 200 <= response.status < 300:
                        raise FetchError(f"image download failed: HTTP {response.status} for {url}")
                    data = await self._read_capped(response, url)
                    return Fetched(data, response.headers.get("Content-Type"), str(current))
            except FetchError:
                raise
            except aiohttp.ClientConnectorError as exc:
                raise FetchError(self._connect_failure(exc, current, url)) from None
            except (TimeoutError, aiohttp.ServerTimeoutError):
                raise FetchError(f"image download failed: timed out for {url}") from None
            except (aiohttp.ClientError, ValueError) as exc:
                raise FetchError(
                    f"image download failed: {type(exc).__name__} for {url} ({exc})"
                ) from None
        raise FetchError(
            f"image download failed: more than {self.max_redirects} redirects for {url}"
        )

    @staticmethod
    def _connect_failure(exc: aiohttp.ClientConnectorError, current: URL, url: str) -> str:
        cause: Any = exc.os_error
        if isinstance(cause, AddressRefused):
            return str(cause)
        if isinstance(exc, aiohttp.ClientConnectorDNSError):
            return f"image download failed: {cause}"
        return f"image download failed: cannot connect to {current.host} for {url} ({cause})"

    @staticmethod
    def _redirect(current: URL, response: aiohttp.ClientResponse, url: str) -> URL:
        location = response.headers.get("Location")
        if not location:
            raise FetchError(
                f"image download failed: HTTP {response.status} without a Location for {url}"
            )
        try:
            return current.join(URL(location))
        except (ValueError, TypeError):
            raise FetchError(
                f"image download failed: bad redirect {location[:200]!r} for {url}"
            ) from None

    async def _read_capped(self, response: aiohttp.ClientResponse, url: str) -> bytearray:
        """The body in one buffer that grows as the bytes come, never past MAX_IMAGE_BYTES
        (or a declared Content-Length). Each chunk is copied in and let go: no list of chunks
        and no joined copy, so an image in flight holds its size once. The buffer is its own
        mapping past 1 MiB (`service.imaging.return_big_allocations`), so growing it remaps
        pages instead of copying them, and its memory is touched a chunk at a time, never in
        one long stall of the event loop (zero-filling 20 MB of fresh pages at once took a
        quarter of a second here). The caller drops it once the bytes are stored."""
        too_big = FetchError(
            f"image download failed: larger than {_megabytes(self.max_bytes)} "
            f"(MAX_IMAGE_BYTES) at {url}"
        )
        declared = response.content_length
        if declared is not None and declared > self.max_bytes:
            raise too_big
        limit = self.max_bytes if declared is None else declared
        buffer = bytearray()
        while chunk := await response.content.readany():
            if len(buffer) + len(chunk) > limit:
                if declared is None:
                    raise too_big
                raise FetchError(f"image download failed: more than {declared} bytes at {url}")
            buffer += chunk
        if declared is not None and len(buffer) < declared:
            raise FetchError(
                f"image download failed: got {len(buffer)} of the declared {declared} bytes "
                f"at {url}"
            )
        return buffer

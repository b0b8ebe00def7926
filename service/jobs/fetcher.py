"""Download one image safely: SSRF checks on every hop, a size cap, bounded redirects.

The host is resolved once per hop and every address it resolves to is checked; the request
then goes to the checked address (the Host header and TLS SNI keep the original name), so a
DNS answer that changes between the check and the connect (DNS rebinding) cannot point us
elsewhere. Remaining gap: pooled keep-alive connections are keyed by address, so two host
names on one address may share a TLS connection whose certificate was checked for the first.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass

import httpx

REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """The image could not be downloaded; the message says why, for a person."""


@dataclass(frozen=True, slots=True)
class Fetched:
    data: bytes
    content_type: str | None
    final_url: str


def refusal(address: IPAddress) -> str | None:
    """Why an address is off limits (loopback, private, ...), or None for a public one.

    An IPv6 address that carries an IPv4 one is judged by it: mapped (`::ffff:10.0.0.1`) and
    6to4 (`2002:0a00:0001::`, which a 6to4 relay would deliver to 10.0.0.1).
    """
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return refusal(address.ipv4_mapped)
        inner = address.sixtofour and refusal(address.sixtofour)
        if inner:
            return f"6to4-wrapped {inner}"
        if address.is_site_local:  # fec0::/10, deprecated but still the local network's
            return "site-local"
    checks = (
        ("loopback", address.is_loopback),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("unspecified", address.is_unspecified),
        ("reserved", address.is_reserved),
        ("private", address.is_private),
        ("non-public", not address.is_global),
    )
    return next((name for name, hit in checks if hit), None)


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:g} MB"


class SafeFetcher:
    def __init__(
        self,
        client: httpx.AsyncClient,
        *,
        max_bytes: int,
        allow_private: bool,
        max_redirects: int = 3,
        resolve_timeout: float = 5.0,
    ) -> None:
        self.client = client
        self.max_bytes = max_bytes
        self.allow_private = allow_private
        self.max_redirects = max_redirects
        self.resolve_timeout = resolve_timeout

    async def resolve(self, host: str, port: int) -> list[IPAddress]:
        """Every address `host` resolves to (an IP literal resolves to itself)."""
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        loop = asyncio.get_running_loop()
        try:
            async with asyncio.timeout(self.resolve_timeout):
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, TimeoutError) as exc:
            raise FetchError(
                f"image download failed: cannot resolve host {host!r} ({exc})"
            ) from None
        addresses: dict[IPAddress, None] = {}
        for *_, sockaddr in infos:
            addresses.setdefault(ipaddress.ip_address(str(sockaddr[0]).split("%")[0]), None)
        if not addresses:
            raise FetchError(f"image download failed: host {host!r} has no address")
        return list(addresses)

    async def _pinned_request(self, url: httpx.URL) -> httpx.Request:
        if url.scheme not in ("http", "https") or not url.host:
            raise FetchError(f"image download failed: {str(url)[:200]} is not an http(s) URL")
        port = url.port or (443 if url.scheme == "https" else 80)
        addresses = await self.resolve(url.host, port)
        if not self.allow_private:
            for address in addresses:
                reason = refusal(address)
                if reason:
                    raise FetchError(
                        f"image URL refused: {url.host} resolves to {address}, a {reason} "
                        "address (set ALLOW_PRIVATE_IMAGE_URLS=true to allow)"
                    )
        extensions = {}
        if url.scheme == "https" and url.host != str(addresses[0]):
            extensions["sni_hostname"] = url.host
        headers = {
            "Host": url.netloc.decode("ascii"),
            "Accept": "image/*",
            "Accept-Encoding": "identity",  # images are compressed already; no gzip bombs
        }
        return self.client.build_request(
            "GET", url.copy_with(host=str(addresses[0])), headers=headers, extensions=extensions
        )

    async def fetch(self, url: str) -> Fetched:
        """The image's bytes, or FetchError with a reason naming the URL."""
        try:
            current = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(f"image download failed: invalid URL {url[:200]!r} ({exc})") from None
        for _hop in range(self.max_redirects + 1):
            request = await self._pinned_request(current)
            try:
                response = await self.client.send(request, stream=True)
            except httpx.TimeoutException:
                raise FetchError(f"image download failed: timed out for {url}") from None
            except httpx.HTTPError as exc:
                raise FetchError(
                    f"image download failed: {type(exc).__name__} for {url} ({exc})"
                ) from None
            try:
                if response.status_code in REDIRECT_CODES:
                    location = response.headers.get("location")
                    if not location:
                        raise FetchError(
                            f"image download failed: HTTP {response.status_code} without a "
                            f"Location for {url}"
                        )
                    try:
                        current = current.join(location)
                    except (httpx.InvalidURL, ValueError):
                        raise FetchError(
                            f"image download failed: bad redirect {location[:200]!r} for {url}"
                        ) from None
                    continue
                if not 200 <= response.status_code < 300:
                    raise FetchError(
                        f"image download failed: HTTP {response.status_code} for {url}"
                    )
                data = await self._read_capped(response, url)
                return Fetched(data, response.headers.get("content-type"), str(current))
            finally:
                await response.aclose()
        raise FetchError(
            f"image download failed: more than {self.max_redirects} redirects for {url}"
        )

    async def _read_capped(self, response: httpx.Response, url: str) -> bytes:
        too_big = FetchError(
            f"image download failed: larger than {_megabytes(self.max_bytes)} "
            f"(MAX_IMAGE_BYTES) at {url}"
        )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise too_big
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise too_big
                chunks.append(chunk)
        except httpx.TimeoutException:
            raise FetchError(f"image download failed: timed out reading {url}") from None
        except httpx.HTTPError as exc:
            raise FetchError(
                f"image download failed: {type(exc).__name__} while reading {url} ({exc})"
            ) from None
        return b"".join(chunks)

"""The download client's DNS: every address a name resolves to is checked (SSRF), and
aiohttp connects only to the addresses returned here (see `fetcher`)."""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor

from aiohttp.abc import AbstractResolver, ResolveResult

LOOKUP_THREADS = 8
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class AddressRefused(OSError):
    """A host resolved to an address we never connect to; the message says which and why.

    An OSError so that aiohttp passes it through as the cause of its connector error."""


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


def refused_message(host: str, address: IPAddress, reason: str) -> str:
    return (
        f"image URL refused: {host} resolves to {address}, a {reason} address "
        "(set ALLOW_PRIVATE_IMAGE_URLS=true to allow)"
    )


class GuardedResolver(AbstractResolver):
    """getaddrinfo, then the SSRF check over every address (unless private ones are allowed).

    Any failure to resolve (no such host, a name the IDNA codec rejects, a time-out) is an
    OSError, which aiohttp reports as a DNS error of that one request."""

    def __init__(self, *, allow_private: bool, timeout: float = 5.0) -> None:
        self.allow_private = allow_private
        self.timeout = timeout
        # getaddrinfo blocks its thread, and a time-out does not free it: lookups get threads
        # of their own, so hosts whose name servers hang cannot starve blob writes.
        self._threads = ThreadPoolExecutor(max_workers=LOOKUP_THREADS, thread_name_prefix="dns")

    async def lookup(self, host: str, port: int) -> list[tuple[int, str]]:
        """(family, address) pairs for `host`: getaddrinfo on the resolver's own threads."""
        infos = await asyncio.get_running_loop().run_in_executor(
            self._threads,
            functools.partial(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM),
        )
        return [(family, str(sockaddr[0])) for family, _, _, _, sockaddr in infos]

    def refusal(self, address: IPAddress) -> str | None:
        return None if self.allow_private else refusal(address)

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        try:
            async with asyncio.timeout(self.timeout):
                found = await self.lookup(host, port)
        except TimeoutError:
            raise OSError(f"cannot resolve host {host!r} (timed out)") from None
        except Exception as exc:  # gaierror, or UnicodeError for a bad label: this image only
            raise OSError(f"cannot resolve host {host!r} ({exc})") from None
        results: list[ResolveResult] = []
        for address_family, text in dict.fromkeys(found):
            address = ipaddress.ip_address(text.split("%")[0])
            reason = self.refusal(address)
            if reason:
                raise AddressRefused(refused_message(host, address, reason))
            results.append(
                {
                    "hostname": host,
                    "host": text,
                    "port": port,
                    "family": address_family,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
            )
        if not results:
            raise OSError(f"host {host!r} has no address")
        return results

    async def close(self) -> None:
        self._threads.shutdown(wait=False, cancel_futures=True)

"""The safe fetcher without a network: SSRF checks per hop, address pinning, size cap."""

from __future__ import annotations

import asyncio
import ipaddress
import struct
import zlib

import httpx
import pytest

from service.jobs.fetcher import FetchError, SafeFetcher, refusal
from service.jobs.imaging import DecodeError, decode
from tests.jobs.conftest import image_bytes

PUBLIC = "93.184.216.34"
DNS = {
    "images.example": [PUBLIC],
    "internal.example": ["10.0.0.5"],
    "mixed.example": [PUBLIC, "127.0.0.1"],
}


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # cloud metadata
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-public"),  # carrier-grade NAT
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("fc00::1", "private"),
        (PUBLIC, None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_refusal_classifies_addresses(address: str, reason: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


class FakeDNSFetcher(SafeFetcher):
    async def resolve(self, host: str, port: int) -> list:  # type: ignore[override]
        try:
            return [ipaddress.ip_address(host)]
        except ValueError:
            pass
        if host not in DNS:
            raise FetchError(f"image download failed: cannot resolve host {host!r}")
        return [ipaddress.ip_address(a) for a in DNS[host]]


def fetch(handler, url: str, **options: object) -> tuple[object, list[httpx.Request]]:  # noqa: ANN001
    seen: list[httpx.Request] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return handler(request)

    async def go() -> object:
        async with httpx.AsyncClient(transport=httpx.MockTransport(record)) as client:
            fetcher = FakeDNSFetcher(
                client,
                max_bytes=int(options.get("max_bytes", 1_000_000)),  # type: ignore[arg-type]
                allow_private=bool(options.get("allow_private", False)),
            )
            try:
                return await fetcher.fetch(url)
            except FetchError as exc:
                return exc

    return asyncio.run(go()), seen


PNG = image_bytes(4, 3, "png")


def test_connects_to_the_checked_address_with_the_original_host_header() -> None:
    result, seen = fetch(lambda r: httpx.Response(200, content=PNG), "https://images.example/a.png")
    assert result.data == PNG  # type: ignore[attr-defined]
    [request] = seen
    assert request.url.host == PUBLIC  # pinned: no second DNS lookup to rebind
    assert request.headers["host"] == "images.example"
    assert request.extensions["sni_hostname"] == "images.example"  # TLS checks the real name


def test_a_redirect_to_a_private_address_is_refused_before_connecting() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(302, headers={"Location": "http://internal.example/secret"})

    result, seen = fetch(handler, "https://images.example/a.png")
    assert isinstance(result, FetchError)
    assert str(result) == (
        "image URL refused: internal.example resolves to 10.0.0.5, a private address "
        "(set ALLOW_PRIVATE_IMAGE_URLS=true to allow)"
    )
    assert [r.url.host for r in seen] == [PUBLIC]


def test_any_private_address_among_several_is_refused() -> None:
    result, seen = fetch(lambda r: httpx.Response(200, content=PNG), "http://mixed.example/a.png")
    assert isinstance(result, FetchError) and "127.0.0.1, a loopback address" in str(result)
    assert seen == []


def test_private_addresses_are_fetched_when_allowed() -> None:
    result, seen = fetch(
        lambda r: httpx.Response(200, content=PNG),
        "http://internal.example/a.png",
        allow_private=True,
    )
    assert result.data == PNG  # type: ignore[attr-defined]
    assert seen[0].url.host == "10.0.0.5"


def test_a_redirect_to_another_scheme_fails() -> None:
    result, _ = fetch(
        lambda r: httpx.Response(301, headers={"Location": "file:///etc/passwd"}),
        "http://images.example/a.png",
    )
    assert isinstance(result, FetchError) and "is not an http(s) URL" in str(result)


def test_declared_and_streamed_sizes_are_capped() -> None:
    declared, _ = fetch(
        lambda r: httpx.Response(200, content=b"x" * 2048),
        "http://images.example/a.png",
        max_bytes=1024,
    )
    assert isinstance(declared, FetchError) and "MAX_IMAGE_BYTES" in str(declared)

    async def chunks():  # noqa: ANN202 - no Content-Length: only the stream count stops it
        yield b"x" * 600
        yield b"x" * 600

    def chunked(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=chunks())

    streamed, _ = fetch(chunked, "http://images.example/a.png", max_bytes=1024)
    assert isinstance(streamed, FetchError) and "MAX_IMAGE_BYTES" in str(streamed)


def test_unresolvable_host_fails_with_a_reason() -> None:
    result, seen = fetch(lambda r: httpx.Response(200), "http://nowhere.example/a.png")
    assert isinstance(result, FetchError) and "cannot resolve host 'nowhere.example'" in str(result)
    assert seen == []


def test_decode_refuses_truncated_and_unsupported_images() -> None:
    jpeg = image_bytes(64, 48, "jpg")
    assert decode(jpeg, 10_000).width == 64
    with pytest.raises(DecodeError, match="corrupt image data"):
        decode(jpeg[: len(jpeg) // 2], 10_000)
    import io

    from PIL import Image

    bmp = io.BytesIO()
    Image.new("RGB", (4, 4)).save(bmp, "BMP")
    with pytest.raises(DecodeError, match="not a JPEG, PNG, WebP or GIF"):
        decode(bmp.getvalue(), 10_000)


def png_claiming(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header claims another size (no pixels are ever allocated)."""
    png = bytearray(image_bytes(1, 1, "png"))
    ihdr = png.index(b"IHDR")
    png[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(png[ihdr : ihdr + 17]))
    png[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(png)


def test_decompression_bombs_are_refused_from_the_header() -> None:
    with pytest.raises(DecodeError, match="2000x2000 is more than 1000000 pixels"):
        decode(png_claiming(2000, 2000), 1_000_000)
    with pytest.raises(DecodeError, match="decompression bomb"):
        decode(png_claiming(20_000, 20_000), 1_000_000_000)  # Pillow's own limit

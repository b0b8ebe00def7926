"""The safe fetcher against a loopback server, with made-up DNS: SSRF checks per hop, the
resolver's addresses being the only ones connected to, size caps, no transparent gzip; and
measuring images from their header, with files cut short refused."""

from __future__ import annotations

import asyncio
import gzip
import io
import ipaddress
import struct
import sys
import zlib
from collections.abc import Callable

import pytest
from aiohttp import web
from PIL import Image

from service.jobs.fetcher import Fetched, FetchError, SafeFetcher, make_session
from service.jobs.imaging import DecodeError, measure
from service.jobs.resolver import GuardedResolver, refusal
from tests.jobs.conftest import image_bytes

LOOPBACK = ipaddress.ip_address("127.0.0.1")
# Names the fake DNS knows; the test server is on 127.0.0.1, which these tests treat as public.
DNS = {
    "images.example": ["127.0.0.1"],
    "internal.example": ["10.0.0.5"],
    "mixed.example": ["127.0.0.1", "192.168.1.1"],
}
PNG = image_bytes(4, 3, "png")


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
        ("93.184.216.34", None),
        ("2606:4700:4700::1111", None),
    ],
)
def test_refusal_classifies_addresses(address: str, reason: str | None) -> None:
    assert refusal(ipaddress.ip_address(address)) == reason


class FakeDNS(GuardedResolver):
    """Answers from DNS and counts lookups; 127.0.0.1 counts as public (the test server)."""

    def __init__(self, allow_private: bool = False) -> None:
        super().__init__(allow_private=allow_private)
        self.lookups: list[str] = []

    async def lookup(self, host: str, port: int) -> list[tuple[int, str]]:
        self.lookups.append(host)
        if host not in DNS:
            raise OSError(f"[Errno -2] Name or service not known: {host}")
        return [(2, address) for address in DNS[host]]

    def refusal(self, address):  # noqa: ANN001, ANN201
        return None if address == LOOPBACK else super().refusal(address)


Routes = dict[str, Callable[[web.Request], web.StreamResponse]]


def fetch_all(
    routes: Routes,
    paths: list[str],
    *,
    resolver: GuardedResolver | None = None,
    host: str = "images.example",
    max_bytes: int = 1_000_000,
) -> tuple[list[object], list[web.Request]]:
    """Serve `routes` on 127.0.0.1, fetch `http://{host}:{port}{path}` for each path (an
    absolute URL is fetched as it is); results (Fetched or FetchError) and requests seen."""
    seen: list[web.Request] = []

    async def go() -> list[object]:
        @web.middleware
        async def record(request: web.Request, handler):  # noqa: ANN001, ANN202
            seen.append(request)
            return await handler(request)

        app = web.Application(middlewares=[record])
        for path, handler in routes.items():
            app.router.add_get(path, handler)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        guard = resolver or FakeDNS()
        session = make_session(guard, connections=4, timeout=5)
        fetcher = SafeFetcher(session, guard, max_bytes=max_bytes)
        results: list[object] = []
        try:
            for path in paths:
                url = path.format(port=port) if "://" in path else f"http://{host}:{port}{path}"
                try:
                    results.append(await fetcher.fetch(url))
                except FetchError as exc:
                    results.append(exc)
        finally:
            await session.close()
            await runner.cleanup()
        return results

    return asyncio.run(go()), seen


async def png(request: web.Request) -> web.Response:
    return web.Response(body=PNG, content_type="image/png")


def test_a_name_is_resolved_by_the_guard_and_keeps_its_host_header() -> None:
    resolver = FakeDNS()
    [first, second], seen = fetch_all({"/a.png": png}, ["/a.png", "/a.png"], resolver=resolver)
    assert first.data == PNG and second.data == PNG  # type: ignore[attr-defined]
    assert [r.host.split(":")[0] for r in seen] == ["images.example", "images.example"]
    assert resolver.lookups == ["images.example"]  # one connection, kept alive


def test_a_redirect_to_a_private_address_is_refused_before_connecting() -> None:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound("http://internal.example/secret")

    [result], seen = fetch_all({"/a.png": redirect}, ["/a.png"])
    assert isinstance(result, FetchError)
    assert str(result) == (
        "image URL refused: internal.example resolves to 10.0.0.5, a private address "
        "(set ALLOW_PRIVATE_IMAGE_URLS=true to allow)"
    )
    assert [r.path for r in seen] == ["/a.png"]


def test_any_private_address_among_several_is_refused() -> None:
    [result], seen = fetch_all({"/a.png": png}, ["/a.png"], host="mixed.example")
    assert isinstance(result, FetchError) and "192.168.1.1, a private address" in str(result)
    assert seen == []


def test_an_ip_literal_is_checked_without_a_resolver() -> None:
    strict = GuardedResolver(allow_private=False)
    [refused], seen = fetch_all({"/a.png": png}, ["http://127.0.0.1:{port}/a.png"], resolver=strict)
    assert str(refused) == (
        "image URL refused: 127.0.0.1 resolves to 127.0.0.1, a loopback address "
        "(set ALLOW_PRIVATE_IMAGE_URLS=true to allow)"
    )
    assert seen == []
    lenient = GuardedResolver(allow_private=True)
    [fetched], _ = fetch_all({"/a.png": png}, ["http://127.0.0.1:{port}/a.png"], resolver=lenient)
    assert fetched.data == PNG  # type: ignore[attr-defined]


@pytest.mark.parametrize("target", ["http://2130706433/x", "http://127.1/x", "http://0177.0.0.1/x"])
def test_a_redirect_to_a_legacy_numeric_ipv4_form_is_refused(target: str) -> None:
    """The socket layer reads these as 127.0.0.1 without asking a resolver."""

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPFound(target)

    [result], seen = fetch_all({"/a.png": redirect}, ["/a.png"])
    assert isinstance(result, FetchError)
    assert str(result).startswith("image URL refused: host") and "dotted decimal" in str(result)
    assert [r.path for r in seen] == ["/a.png"]


def test_private_addresses_are_fetched_when_allowed() -> None:
    class Lenient(FakeDNS):
        def refusal(self, address):  # noqa: ANN001, ANN201
            return GuardedResolver.refusal(self, address)

    [result], _ = fetch_all({"/a.png": png}, ["/a.png"], resolver=Lenient(allow_private=True))
    assert result.data == PNG  # type: ignore[attr-defined]


def test_a_redirect_to_another_scheme_fails() -> None:
    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("file:///etc/passwd")

    [result], _ = fetch_all({"/a.png": redirect}, ["/a.png"])
    assert isinstance(result, FetchError) and "is not an http(s) URL" in str(result)


def test_declared_and_streamed_sizes_are_capped() -> None:
    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=b"x" * 2048)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()  # no Content-Length: only the count stops it
        await response.prepare(request)
        for _ in range(2):
            await response.write(b"x" * 600)
        await response.write_eof()
        return response

    results, _ = fetch_all(
        {"/declared": declared, "/chunked": chunked}, ["/declared", "/chunked"], max_bytes=1024
    )
    assert all(isinstance(r, FetchError) and "MAX_IMAGE_BYTES" in str(r) for r in results)


def test_a_body_comes_back_in_one_buffer_of_its_size() -> None:
    """Issue 18, item 5: a body is read into one buffer that grows in place to its size; no
    list of chunks plus a joined copy."""
    body = bytes(range(256)) * 4000  # 1 MB, many chunks

    async def declared(request: web.Request) -> web.Response:
        return web.Response(body=body)

    async def chunked(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for start in range(0, len(body), 100_000):
            await response.write(body[start : start + 100_000])
        await response.write_eof()
        return response

    results, _ = fetch_all(
        {"/declared": declared, "/chunked": chunked}, ["/declared", "/chunked"], max_bytes=2**21
    )
    for result in results:
        assert isinstance(result, Fetched) and result.data == body
        assert isinstance(result.data, bytearray)
    for result in results:  # its size, and the little room a growing bytearray keeps
        assert len(body) <= sys.getsizeof(result.data) <= len(body) * 1.2


def test_gzip_is_not_decompressed() -> None:
    """A server that compresses anyway gets its bytes stored as sent: no gzip bombs."""
    packed = gzip.compress(b"\0" * 100_000)

    async def bomb(request: web.Request) -> web.Response:
        assert request.headers["Accept-Encoding"] == "identity"
        return web.Response(body=packed, headers={"Content-Encoding": "gzip"})

    [result], _ = fetch_all({"/a.png": bomb}, ["/a.png"], max_bytes=50_000)
    assert result.data == packed  # type: ignore[attr-defined]


def test_unresolvable_host_fails_with_a_reason() -> None:
    [result], seen = fetch_all({"/a.png": png}, ["/a.png"], host="nowhere.example")
    assert isinstance(result, FetchError) and "cannot resolve host 'nowhere.example'" in str(result)
    assert seen == []


@pytest.mark.parametrize("host", ["a..b", "x." + "a" * 64 + ".example"])
def test_a_host_with_an_empty_or_over_long_label_fails_only_its_image(host: str) -> None:
    guard = GuardedResolver(allow_private=False)
    [result], seen = fetch_all({"/a.png": png}, ["/a.png"], resolver=guard, host=host)
    assert isinstance(result, FetchError) and "an empty label or one over 63" in str(result)
    assert seen == []


def test_any_error_from_the_lookup_fails_only_its_image() -> None:
    """getaddrinfo raises UnicodeError for names the IDNA codec refuses: a reason, no crash."""

    class Refusing(FakeDNS):
        async def lookup(self, host: str, port: int) -> list[tuple[int, str]]:
            raise UnicodeError("label empty or too long")

    [result], _ = fetch_all({"/a.png": png}, ["/a.png"], resolver=Refusing())
    assert str(result) == (
        "image download failed: cannot resolve host 'images.example' (label empty or too long)"
    )


# -- measuring ------------------------------------------------------------------------------
def jpeg(width: int = 64, height: int = 48, **options: object) -> bytes:
    out = io.BytesIO()
    Image.linear_gradient("L").resize((width, height)).convert("RGB").save(out, "JPEG", **options)
    return out.getvalue()


@pytest.mark.parametrize("ext", ["jpg", "png", "webp", "gif"])
def test_the_size_comes_from_the_header(ext: str) -> None:
    measured = measure(image_bytes(33, 21, ext), 10_000)
    assert (measured.width, measured.height, measured.perimeter) == (33, 21, 108)


def mpo() -> bytes:
    """A JPEG with a multi-picture (MPF) header, as phones write: Pillow names it "MPO"."""
    first, second = Image.new("RGB", (64, 48), "navy"), Image.new("RGB", (64, 48), "gold")
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    return out.getvalue()


def test_a_phone_jpeg_with_a_multi_picture_header_is_a_jpeg() -> None:
    data = mpo()
    measured = measure(data, 10_000)
    assert (measured.width, measured.format, measured.extension) == (64, "JPEG", "jpg")
    with pytest.raises(DecodeError, match="truncated image data|corrupt image data"):
        measure(data[: len(data) // 4], 10_000)  # cut inside the main picture


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(jpeg(), id="baseline-jpeg"),
        pytest.param(jpeg(progressive=True), id="progressive-jpeg"),
        # An FF D9 before the scan (in a comment, as in an EXIF thumbnail) is not the end.
        pytest.param(jpeg(comment=b"thumb \xff\xd9 end"), id="jpeg-with-ffd9-in-a-comment"),
        pytest.param(image_bytes(64, 48, "png"), id="png"),
        pytest.param(image_bytes(64, 48, "webp"), id="webp"),
        pytest.param(image_bytes(64, 48, "gif"), id="gif"),
    ],
)
def test_a_file_cut_short_is_refused(data: bytes) -> None:
    assert measure(data, 10_000).width == 64
    for cut in (len(data) // 2, len(data) - 3):
        with pytest.raises(DecodeError, match="truncated image data|corrupt image data"):
            measure(data[:cut], 10_000)


def test_unsupported_and_garbage_bytes_are_refused() -> None:
    bmp = io.BytesIO()
    Image.new("RGB", (4, 4)).save(bmp, "BMP")
    for data in (bmp.getvalue(), b"<html>not an image</html>", b""):
        with pytest.raises(DecodeError, match="not a JPEG, PNG, WebP or GIF"):
            measure(data, 10_000)


def png_claiming(width: int, height: int) -> bytes:
    """A 1x1 PNG whose header claims another size (no pixels are ever allocated)."""
    data = bytearray(image_bytes(1, 1, "png"))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4 : ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr : ihdr + 17]))
    data[ihdr + 17 : ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


def test_decompression_bombs_are_refused_from_the_header() -> None:
    with pytest.raises(DecodeError, match="2000x2000 is more than 1000000 pixels"):
        measure(png_claiming(2000, 2000), 1_000_000)
    with pytest.raises(DecodeError, match="decompression bomb"):
        measure(png_claiming(20_000, 20_000), 1_000_000_000)  # Pillow's own limit

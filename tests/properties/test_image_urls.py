"""Property tests of image-URL validation at submit (service/jobs/validation.py) and of the
fetcher's SSRF classification of addresses (service/jobs/fetcher.py)."""

from __future__ import annotations

import ipaddress
import json
from urllib.parse import urlsplit

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from yarl import URL

from service.errors import InvalidInput
from service.jobs.contract import MAX_URL_LENGTH
from service.jobs.resolver import refusal
from service.jobs.validation import check_image_url, parse_submission

FAST = settings(max_examples=300, deadline=None, database=None, derandomize=True)

# URL-shaped text: schemes right and wrong, hosts of every kind, odd ports, any path bytes.
schemes = st.sampled_from(["http", "https", "HTTP", "hTTps", "ftp", "file", "javascript", ""])
hosts = st.one_of(
    st.from_regex(r"\A[a-z0-9][a-z0-9.\-]{0,30}\Z"),
    st.ip_addresses().map(lambda ip: f"[{ip}]" if ip.version == 6 else str(ip)),
    st.sampled_from(["", "user:pw@example.com", "[::1", "exa mple.com", "bücher.de", "a..b"]),
    st.text(max_size=12),
    # labels empty, long (63 is the most DNS takes) or numeric, as resolvers read them
    st.lists(
        st.one_of(st.text("ab-", max_size=70), st.from_regex(r"\A(0x)?[0-9a-f]{0,4}\Z")),
        min_size=1,
        max_size=5,
    ).map(".".join),
)
ports = st.sampled_from(["", ":80", ":8080", ":0", ":65535", ":65536", ":99999", ":abc", ":"])
paths = st.one_of(st.just(""), st.text(max_size=40).map(lambda text: "/" + text))
urlish = st.builds(
    lambda scheme, sep, host, port, path: f"{scheme}{sep}{host}{port}{path}",
    schemes,
    st.sampled_from(["://", ":/", ":", "//"]),
    hosts,
    ports,
    paths,
)
long_urls = st.integers(min_value=MAX_URL_LENGTH - 40, max_value=MAX_URL_LENGTH + 40).map(
    lambda size: "https://example.com/" + "a" * (size - len("https://example.com/"))
)
candidates = st.one_of(urlish, long_urls, st.text(max_size=60))


def accepted(url: str) -> bool:
    try:
        check_image_url(url)
    except ValueError:
        return False
    return True


@FAST
@given(url=candidates)
@example(url="http://example.com/a b")
@example(url="https://[::1]:443/x")
@example(url="http://host:65536/")
@example(url="http://\u3000/")
@example(url="http://a..b/x.png")
@example(url="http://0177.0.0.1/x.png")
def test_anything_accepted_is_a_fetchable_http_url(url: str) -> None:
    if not accepted(url):
        return
    assert len(url) <= MAX_URL_LENGTH
    parts = urlsplit(url)
    assert parts.scheme.lower() in ("http", "https")
    assert parts.hostname
    assert parts.port is None or 0 <= parts.port <= 65535
    assert not any(ord(char) <= 0x20 or ord(char) == 0x7F for char in url)
    # The worker hands it to aiohttp (yarl): it must parse there too, with an http(s) scheme
    # and a host.
    parsed = URL(url)
    host = parsed.raw_host or ""
    assert parsed.scheme in ("http", "https") and host
    if ":" not in host:
        # ... and resolve: getaddrinfo encodes the name with Python's idna codec (which
        # refuses empty and over-long labels), and reads a numeric last label as IPv4.
        host.encode("idna")
        if host.removesuffix(".").rsplit(".", 1)[-1].isdigit():
            assert str(ipaddress.IPv4Address(host)) == host


@FAST
@given(size=st.integers(min_value=1, max_value=3 * MAX_URL_LENGTH))
def test_the_length_limit_is_exact(size: int) -> None:
    url = "https://example.com/" + "a" * max(0, size - len("https://example.com/"))
    assert accepted(url) == (len(url) <= MAX_URL_LENGTH)


@FAST
@given(url=candidates)
def test_submit_refuses_what_the_check_refuses_naming_the_url(url: str) -> None:
    body = {
        "count": 1,
        "visits": [
            {"store_id": "RP00001", "image_url": [url], "visit_time": "2026-11-21T10:00:00"}
        ],
    }
    if accepted(url):
        assert parse_submission(json.dumps(body).encode(), 10).visits[0].urls == (url,)
    else:
        with pytest.raises(InvalidInput, match=r"^visits\[0\]\.image_url\[0\]: "):
            parse_submission(json.dumps(body).encode(), 10)


# -- SSRF classification ---------------------------------------------------------------------


def reference_is_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Public per Python's ipaddress: globally reachable and no special-purpose kind; an IPv6
    address that carries an IPv4 one (mapped, 6to4) is judged by the IPv4 one as well."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return reference_is_public(address.ipv4_mapped)
        if address.sixtofour is not None and not reference_is_public(address.sixtofour):
            return False
        if address.is_site_local:
            return False
    return address.is_global and not (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


addresses = st.one_of(
    st.ip_addresses(),
    st.ip_addresses(v=4).map(lambda ip: ipaddress.IPv6Address(f"::ffff:{ip}")),
    st.ip_addresses(v=4).map(lambda ip: ipaddress.IPv6Address((0x2002 << 112) | (int(ip) << 80))),
    st.sampled_from(["127.0.0.1", "10.1.2.3", "169.254.169.254", "100.64.0.1", "0.0.0.0",
                     "224.0.0.1", "255.255.255.255", "8.8.8.8", "::1", "fe80::1", "fc00::1",
                     "fec0::1", "ff02::1", "64:ff9b::a00:1", "2001:db8::1", "2606:4700::1111",
                     "::ffff:169.254.169.254", "2002:a9fe:a9fe::1"]).map(ipaddress.ip_address),
)  # fmt: skip


@settings(max_examples=1000, deadline=None, database=None, derandomize=True)
@given(address=addresses)
def test_ssrf_refusal_agrees_with_ipaddress(address: ipaddress.IPv4Address) -> None:
    reason = refusal(address)
    assert (reason is None) == reference_is_public(address), (str(address), reason)


def test_the_reference_is_not_trivial() -> None:
    public = ["8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8", "2002:808:808::"]
    private = ["127.0.0.1", "::ffff:10.0.0.1", "2002:7f00:1::", "fec0::1", "169.254.169.254"]
    assert all(reference_is_public(ipaddress.ip_address(a)) for a in public)
    assert not any(reference_is_public(ipaddress.ip_address(a)) for a in private)

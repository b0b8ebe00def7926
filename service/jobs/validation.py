"""Turn a submit body into a validated job, or an `InvalidInput` naming the field and visit.

Decoding is strict (no "2" for 2); every message starts with the field's path, for example
`visits[1].image_url[0]: must be an http(s) URL`.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import msgspec
from yarl import URL

from service.errors import InvalidInput
from service.strict_json import duplicate_key

from .contract import MAX_STORE_ID_LENGTH, MAX_URL_LENGTH, JobSubmission

_DECODER = msgspec.json.Decoder(JobSubmission)
_AT_PATH = re.compile(r"^(?P<message>.*?)(?: - at `\$(?P<path>[^`]*)`)?$", re.DOTALL)
_FIELD = re.compile(r"^Object (?P<what>missing required|contains unknown) field `(?P<name>[^`]*)`$")
_TYPES = re.compile(r"`([^`]*)`")
_BAD_URL_CHARS = re.compile(r"[\x00-\x20\x7f]")
_HAS_TIME = re.compile(r"\d[Tt ]\d")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # Unicode's control characters (Cc)
_PLAIN_URL = re.compile(
    r"^[Hh][Tt][Tt][Pp][Ss]?://(?P<host>[A-Za-z0-9.\-]+)(?::(?P<port>[0-9]{1,5}))?(?:[/?#][!-~]*)?$"
)
# A last label like these makes resolvers read the host as an IPv4 address in a legacy form
# (inet_aton: 0177.0.0.1 is octal for 127.0.0.1, 127.1 and 2130706433 are too).
_NUMERIC_LABEL = re.compile(r"^(?:[0-9]+|0[Xx][0-9A-Fa-f]*)$")
MAX_LABEL, MAX_HOST = 63, 253  # DNS limits, on the ASCII (IDNA) form


@dataclass(frozen=True, slots=True)
class Visit:
    index: int
    store_id: str
    visit_time: datetime  # wall-clock time as sent, zone dropped
    utc_offset_minutes: int | None
    urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class NewJob:
    visits: tuple[Visit, ...]

    @property
    def image_count(self) -> int:
        return sum(len(visit.urls) for visit in self.visits)


def _decode_error(exc: msgspec.ValidationError) -> InvalidInput:
    """Rephrase msgspec's `Expected `str`, got `int` - at `$.visits[0].store_id``."""
    match = _AT_PATH.match(str(exc))
    assert match is not None  # the pattern matches any text
    message, path = match["message"], (match["path"] or "").lstrip(".")
    field = _FIELD.match(message)
    if field:
        path = f"{path}.{field['name']}" if path else field["name"]
        problem = (
            "required field is missing"
            if field["what"] == "missing required"
            else ("unknown field")
        )
    else:
        problem = _TYPES.sub(r"\1", message[:1].lower() + message[1:])
    return InvalidInput(f"{path or 'body'}: {problem}")


def parse_visit_time(raw: str) -> tuple[datetime, int | None]:
    """ISO-8601 with or without a zone (or `YYYY-MM-DD HH:MM:SS`) -> (wall clock, offset).

    A control character anywhere is refused first: Python 3.11's `fromisoformat` stops at a
    NUL, so `2026-11-21T10:00:00\\x00...` would otherwise pass as if the rest were not there.
    """
    control = _CONTROL.search(raw)
    if control:
        raise ValueError(f"contains a control character (U+{ord(control.group()):04X})")
    text = raw.strip(" ")
    try:
        if not _HAS_TIME.search(text):
            raise ValueError("no time of day")
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"not an ISO-8601 date and time: {raw[:64]!r}") from None
    if not 1970 <= value.year <= 2999:
        raise ValueError(f"year {value.year} is out of range (1970-2999)")
    offset = value.utcoffset()
    if offset is None:
        return value, None
    # Stored (and answered) in whole minutes, as every real zone offset is: refuse the rest
    # rather than round it.
    minutes, rest = divmod(offset, timedelta(minutes=1))
    if rest:
        raise ValueError(f"the UTC offset must be whole minutes (got {raw[:64]!r})")
    return value.replace(tzinfo=None), minutes


@functools.lru_cache(maxsize=4096)  # a job's 10,000 URLs come from a handful of hosts
def check_host(host: str) -> None:
    """A DNS name whose labels resolvers accept, or an IPv4 address in dotted decimal.

    `host` is the ASCII (IDNA-encoded) form; an IPv6 literal is yarl's to check. A host that
    fails raises each time (exceptions are not cached)."""
    if ":" in host:
        return
    labels = host.removesuffix(".").split(".")  # one final dot is a fully qualified name
    if _NUMERIC_LABEL.match(labels[-1]):
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise ValueError(
                f"host {host[:100]!r} is not an IPv4 address in dotted decimal "
                "(four numbers 0-255 without leading zeros)"
            ) from None
        return
    if len(host) > MAX_HOST:
        raise ValueError(f"host is longer than {MAX_HOST} characters")
    if any(not 1 <= len(label) <= MAX_LABEL for label in labels):
        raise ValueError(
            f"host {host[:100]!r} has an empty label or one over {MAX_LABEL} characters"
        )


def check_image_url(url: str) -> None:
    if len(url) > MAX_URL_LENGTH:
        raise ValueError(f"longer than {MAX_URL_LENGTH} characters ({len(url)})")
    plain = _PLAIN_URL.match(url)
    if plain and int(plain["port"] or 0) <= 65535:
        # the usual shape, checked without urlsplit (10,000 URLs per job add up)
        check_host(plain["host"].lower())
        return
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValueError(f"not a valid URL: {url[:100]!r}") from None
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(f"must be an http(s) URL (got {url[:100]!r})")
    if not host:
        raise ValueError(f"has no host: {url[:100]!r}")
    if _BAD_URL_CHARS.search(url):
        raise ValueError("contains spaces or control characters")
    try:
        host = URL(url).raw_host or ""  # as the worker will parse it
    except (ValueError, TypeError, UnicodeError) as exc:
        raise ValueError(f"not a valid URL: {url[:100]!r} ({exc})") from None
    check_host(host)


def _check_visit(index: int, store_id: str, urls: list[str], visit_time: str) -> Visit:
    where = f"visits[{index}]"
    if not store_id.strip():
        raise InvalidInput(f"{where}.store_id: must not be empty")
    if len(store_id) > MAX_STORE_ID_LENGTH:
        raise InvalidInput(f"{where}.store_id: longer than {MAX_STORE_ID_LENGTH} characters")
    if not urls:
        raise InvalidInput(f"{where}.image_url: must list at least one URL")
    for position, url in enumerate(urls):
        try:
            check_image_url(url)
        except ValueError as exc:
            raise InvalidInput(f"{where}.image_url[{position}]: {exc}") from None
    try:
        when, offset = parse_visit_time(visit_time)
    except ValueError as exc:
        raise InvalidInput(f"{where}.visit_time: {exc}") from None
    return Visit(index, store_id.strip(), when, offset, tuple(urls))


def parse_submission(body: bytes, max_images: int) -> NewJob:
    """Validate a POST /api/submit body; raise InvalidInput with the field's path."""
    if not body.strip():
        raise InvalidInput("body: expected a JSON object, got an empty body")
    try:
        submission = _DECODER.decode(body)
    except msgspec.ValidationError as exc:
        raise _decode_error(exc) from None
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"body: not valid JSON ({exc})") from None
    if problem := duplicate_key(body):
        raise InvalidInput(f"body: {problem}")
    if submission.count < 1:
        raise InvalidInput(f"count: must be at least 1 (got {submission.count})")
    if submission.count != len(submission.visits):
        raise InvalidInput(
            f"count: is {submission.count} but visits has {len(submission.visits)} entries"
        )
    visits = tuple(
        _check_visit(index, v.store_id, v.image_url, v.visit_time)
        for index, v in enumerate(submission.visits)
    )
    job = NewJob(visits)
    if job.image_count > max_images:
        raise InvalidInput(
            f"visits: the job has {job.image_count} images; at most {max_images} "
            "are allowed per job (MAX_JOB_IMAGES)"
        )
    return job

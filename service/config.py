"""One typed Settings object read from the environment (and an optional `.env`).

Each field carries its bounds (`Annotated[..., Meta(ge=..., le=...)]`, patterns, lengths) and,
where its text form needs one, its parser (`env(...)`, service.settings_parse); `check` is the
one place for rules that tie fields together. A bad value raises `ConfigError` naming the
variable, so the process stops at start with a message a person can act on.

Bounds are checked where values come in: `load_settings` (the environment) and `settings_from`
(any mapping). msgspec checks Meta constraints on convert/decode only, not when a Struct is
built directly, and there is deliberately no `__post_init__` re-check: msgspec runs it on every
construction and `structs.replace`, and tests build settings outside production bounds on
purpose (a 2-second lease, a test-only QA priority). To check settings built in code, pass
them through `settings_from(msgspec.structs.asdict(settings))`.
"""

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

from service import settings_parse as parsing
from service.settings_parse import (
    API_KEY_PATTERN,
    API_ROLES,
    BOUND_ROLES,
    ROLE_PATTERN,
    ConfigError,
    env,
    read_dotenv,
)

__all__ = [
    "API_ROLES",
    "BOUND_ROLES",
    "ROOT",
    "SQL_DIR",
    "ConfigError",
    "Settings",
    "check",
    "env_names",
    "load_settings",
    "read_dotenv",
    "settings_from",
    "usable_cpus",
]

ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = ROOT / "sql"


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's cpuset, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


def between(low: float, high: float) -> Meta:
    return Meta(ge=low, le=high)


Bytes = Annotated[int, between(1024, 1024**3)]
Name = Annotated[str, Meta(min_length=1), env(parsing.text)]
DelaySeconds = Annotated[float, between(0, 60)]


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service reads from its environment. Defaults suit `make run`."""

    database_url: Annotated[str, env(parsing.database_url, secret=True)] = (
        "sqlite:///var/retail_pulse.db"
    )
    storage_url: Annotated[str, env(parsing.storage_url, secret=True)] = "file://var/blobs"
    host: Name = "127.0.0.1"
    port: Annotated[int, between(1, 65535)] = 8001
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["console", "json"] = "console"
    public_url: Annotated[str, env(parsing.http_url)] = ""
    max_body_bytes: Bytes = 5 * 1024 * 1024
    max_upload_bytes: Bytes = 20 * 1024 * 1024
    max_image_pixels: Annotated[int, between(1, 89_478_485)] = 50_000_000  # Pillow's own limit
    # pixels decoded at once per process, by every decode (service.imaging), and how long a
    # decode waits for room before it gives up (503 with Retry-After for a request)
    pixel_budget: Annotated[int, between(1_000_000, 10_000_000_000)] = 64_000_000
    pixel_wait: Annotated[float, between(0, 600)] = 10.0
    # seconds a request's body may take to arrive (service.http.body_timeout)
    body_timeout: Annotated[float, between(0.1, 3600)] = 30.0
    db_pool_size: Annotated[int, between(1, 256)] = 8
    # server processes of `serve` (one per core: Python runs one thread at a time per process)
    web_concurrency: Annotated[int, between(1, 256)] = msgspec.field(default_factory=usable_cpus)
    db_connect_timeout: Annotated[float, between(0, 3600)] = 60.0
    db_lock_wait_timeout: Annotated[int, between(1, 3600)] = 5
    shutdown_grace: Annotated[float, between(0, 600)] = 10.0
    # access: (key, role) pairs; empty = no authentication (local demos)
    api_keys: Annotated[
        tuple[
            tuple[
                Annotated[str, Meta(pattern=API_KEY_PATTERN)],
                Annotated[str, Meta(pattern=ROLE_PATTERN)],
            ],
            ...,
        ],
        env(parsing.api_keys, secret=True),
    ] = ()
    # store-visit jobs
    max_job_images: Annotated[int, between(1, 1_000_000)] = 10_000
    max_image_bytes: Bytes = 20 * 1024 * 1024
    job_concurrency: Annotated[int, between(1, 10_000)] = 64
    processing_delay: Annotated[
        tuple[DelaySeconds, DelaySeconds],
        Meta(description="SECONDS or LOW-HIGH with 0 <= LOW <= HIGH <= 60"),
        env(parsing.delay),
    ] = (0.1, 0.4)
    allow_private_image_urls: bool = False
    download_timeout: Annotated[float, between(0.1, 600)] = 10.0
    lease_seconds: Annotated[float, between(1, 86_400)] = 60.0
    worker_enabled: bool = True
    # QA
    qa_session_size: Annotated[int, between(1, 1_000)] = 100
    qa_votes: Annotated[int, between(1, 15)] = 3
    qa_session_ttl: Annotated[float, between(1, 7 * 86_400)] = 30 * 60.0
    qa_priority: Literal["random", "suspects"] = "random"
    qa_consensus: Literal["majority", "assisted"] = "majority"
    qa_confidence: Annotated[float, between(0.9, 0.9999)] = 0.99
    # a lead's move settles the snapshot as `match` (settled_by "lead") instead of sending it
    # back to the QA queue as pending
    qa_trust_lead: bool = False
    # similarity
    embedder: Name = "default"
    model_dir: Name = str(ROOT / "var" / "models")  # where `make model` leaves the network
    # share of store-visit images embedded: all, none, or a sample
    embed_job_images: Annotated[
        float,
        between(0, 1),
        Meta(description="all, none, or a fraction between 0 and 1"),
        env(parsing.share),
    ] = 1.0

    @property
    def dialect(self) -> str:
        return "sqlite" if self.database_url.startswith("sqlite:") else "singlestore"


def _unwrapped(info: Any) -> tuple[Any, dict[str, Any], str]:
    """A field's type info without its Annotated layer: (type, env extras, description)."""
    if isinstance(info, msgspec.inspect.Metadata):
        described = (info.extra_json_schema or {}).get("description", "")
        return info.type, dict(info.extra or {}), described
    return info, {}, ""


_FIELDS = {
    field.name: _unwrapped(field.type) for field in msgspec.inspect.type_info(Settings).fields
}


def _from_text(name: str, raw: str) -> Any:
    """The value a variable's text stands for; its bounds are checked after, on conversion."""
    kind, extra, _ = _FIELDS[name]
    parse = extra.get("parse")
    if parse is None and isinstance(kind, msgspec.inspect.BoolType):
        parse = parsing.flag
    if parse is None and isinstance(kind, msgspec.inspect.LiteralType):
        parse = parsing.word
    try:
        return parse(raw) if parse else raw.strip()  # numbers: msgspec reads the text
    except ValueError as exc:
        unreadable = str(exc).startswith(("invalid literal", "could not"))
        raise _config_error(name, "is not a number" if unreadable else str(exc), raw) from None


def _config_error(name: str, problem: str, value: Any) -> ConfigError:
    secret = _FIELDS[name][1].get("secret")
    shown = "" if secret else f" (got {value!r})"
    return ConfigError(name.upper(), f"{problem}{shown}")


def _problem(name: str, message: str) -> str:
    """What a field needs, in the words of its bounds (msgspec's message as a last resort)."""
    kind, _, described = _FIELDS[name]
    if described:
        return f"must be {described}"
    if isinstance(kind, msgspec.inspect.BoolType):
        return "must be true or false"
    if isinstance(kind, msgspec.inspect.LiteralType):
        return f"must be one of {', '.join(map(str, kind.values))}"
    if isinstance(kind, (msgspec.inspect.IntType, msgspec.inspect.FloatType)):
        if "got `str`" in message:
            return "is not a number"
        return f"must be between {kind.ge} and {kind.le}"
    if isinstance(kind, msgspec.inspect.StrType) and kind.min_length:
        return "must not be empty"
    return message.partition(" - at ")[0]


def settings_from(values: Mapping[str, Any], texts: Mapping[str, str] | None = None) -> Settings:
    """Settings from field values (text or typed), each within its bounds, all agreeing;
    an error repeats the value's `texts` where given (what the person wrote)."""
    try:
        settings = msgspec.convert(dict(values), Settings, strict=False)
    except msgspec.ValidationError as exc:
        found = re.search(r" - at `\$\.(\w+)", str(exc))
        if found is None:
            raise
        name = found.group(1)
        shown = (texts or values).get(name)
        raise _config_error(name, _problem(name, str(exc)), shown) from None
    check(settings)
    return settings


def check(settings: Settings) -> None:
    """The rules between fields (each field's own bounds are on the field)."""
    low, high = settings.processing_delay
    if low > high:
        raise ConfigError("PROCESSING_DELAY", f"must be {_FIELDS['processing_delay'][2]}")
    if settings.qa_votes % 2 == 0:
        raise ConfigError("QA_VOTES", "must be odd so that a majority always exists")
    # An image must finish within 0.8 of its lease (the worker's deadline), download and delay
    # included, or every image would time out and be retried forever.
    needed = settings.download_timeout + high
    if settings.lease_seconds * 0.8 <= needed:
        raise ConfigError(
            "LEASE_SECONDS",
            f"must exceed (DOWNLOAD_TIMEOUT + the longest PROCESSING_DELAY) / 0.8 = "
            f"{needed / 0.8:g} s, or no image could finish within its lease",
        )


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Build Settings from `environ` (default: the process environment over `.env`)."""
    variables: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        variables.update(read_dotenv(dotenv))
    variables.update(os.environ if environ is None else environ)
    given = {name: variables[name.upper()] for name in _FIELDS if name.upper() in variables}
    return settings_from({name: _from_text(name, raw) for name, raw in given.items()}, given)


def env_names() -> list[str]:
    """The variable names Settings reads, for docs and the compose test."""
    return [name.upper() for name in _FIELDS]

"""One typed Settings object read from the environment (and an optional `.env`).

Every variable is parsed and checked here, at start. A bad value raises `ConfigError` naming
the variable, so the process stops with a message a person can act on.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

ROOT = Path(__file__).resolve().parents[1]
SQL_DIR = ROOT / "sql"


def usable_cpus() -> int:
    """The CPUs this process may run on (a container's cpuset, not the host's count)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):  # not Linux
        return os.cpu_count() or 1


class ConfigError(ValueError):
    """A configuration variable has a value the service cannot use."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


class Settings(msgspec.Struct, frozen=True, kw_only=True):
    """Everything the service reads from its environment. Defaults suit `make run`."""

    database_url: str = "sqlite:///var/retail_pulse.db"
    storage_url: str = "file://var/blobs"
    host: str = "127.0.0.1"
    port: int = 8001
    log_level: str = "info"
    log_format: str = "console"
    public_url: str = ""
    max_body_bytes: int = 5 * 1024 * 1024
    max_upload_bytes: int = 20 * 1024 * 1024
    max_image_pixels: int = 50_000_000
    # pixels decoded at once per process, by every decode (service.imaging), and how long a
    # decode waits for room before it gives up (503 with Retry-After for a request)
    pixel_budget: int = 64_000_000
    pixel_wait: float = 10.0
    # seconds a request's body may take to arrive (service.http.body_timeout)
    body_timeout: float = 30.0
    db_pool_size: int = 8
    # server processes of `serve` (one per core: Python runs one thread at a time per process)
    web_concurrency: int = msgspec.field(default_factory=lambda: usable_cpus())
    db_connect_timeout: float = 60.0
    db_lock_wait_timeout: int = 5
    shutdown_grace: float = 10.0
    # access: (key, role) pairs; empty = no authentication (local demos)
    api_keys: tuple[tuple[str, str], ...] = ()
    # store-visit jobs
    max_job_images: int = 10_000
    max_image_bytes: int = 20 * 1024 * 1024
    job_concurrency: int = 64
    processing_delay: tuple[float, float] = (0.1, 0.4)
    allow_private_image_urls: bool = False
    download_timeout: float = 10.0
    lease_seconds: float = 60.0
    worker_enabled: bool = True
    # QA
    qa_session_size: int = 100
    qa_votes: int = 3
    qa_session_ttl: float = 30 * 60.0
    qa_priority: str = "random"
    qa_consensus: str = "majority"
    qa_confidence: float = 0.99
    # a lead's move settles the snapshot as `match` (settled_by "lead") instead of sending it
    # back to the QA queue as pending
    qa_trust_lead: bool = False
    # similarity
    embedder: str = "default"
    model_dir: str = str(ROOT / "var" / "models")  # where `make model` leaves the network
    embed_job_images: float = 1.0  # share of store-visit images embedded: all, none, or a sample

    @property
    def dialect(self) -> str:
        return "sqlite" if self.database_url.startswith("sqlite:") else "singlestore"


def _int(lo: int, hi: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        value = int(raw)
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return value

    return parse


def _float(lo: float, hi: float) -> Callable[[str], float]:
    def parse(raw: str) -> float:
        value = float(raw)
        if not lo <= value <= hi:
            raise ValueError(f"must be between {lo} and {hi}")
        return value

    return parse


def _bool(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be true or false")


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.strip().lower()
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}")
        return value

    return parse


def _share(raw: str) -> float:
    """`all`, `none`, or a fraction in [0, 1]."""
    word = raw.strip().lower()
    if word in {"all", "none"}:
        return 1.0 if word == "all" else 0.0
    value = float(word)
    if not 0 <= value <= 1:
        raise ValueError("must be all, none, or a fraction between 0 and 1")
    return value


def _delay(raw: str) -> tuple[float, float]:
    """`0.1-0.4` (uniform range), `0.25` (fixed) or `0` (off)."""
    lo, sep, hi = raw.strip().partition("-")
    low = float(lo)
    high = float(hi) if sep else low
    if low < 0 or high < low or high > 60:
        raise ValueError("must be SECONDS or LOW-HIGH with 0 <= LOW <= HIGH <= 60")
    return (low, high)


API_ROLES = ("admin", "qa", "lead", "client", "metrics")
# Roles whose keys may be bound to one person (`KEY:ROLE:USERNAME`).
BOUND_ROLES = ("qa", "lead")
_API_KEY = re.compile(r"^[A-Za-z0-9._~+/=-]{16,256}$")
_USERNAME = re.compile(r"^[A-Za-z0-9._-]{1,64}$")  # as the QA API's `username` header


def _api_keys(raw: str) -> tuple[tuple[str, str], ...]:
    """`KEY:ROLE,...`; keys of 16+ URL-safe characters, roles from API_ROLES.

    `KEY:qa:USERNAME` binds a QA key to one reviewer (kept as the role `qa:USERNAME`), so the
    key cannot vote under another name; `KEY:lead:USERNAME` binds a lead's key the same way,
    so the history of moves names the person who made each.
    """
    pairs: dict[str, str] = {}
    for number, item in enumerate(filter(None, (part.strip() for part in raw.split(","))), 1):
        key, _, role = item.partition(":")
        base, _, user = role.partition(":")
        # Never echo a key back: name the entry by position.
        if base not in API_ROLES or (
            user and (base not in BOUND_ROLES or not _USERNAME.match(user))
        ):
            raise ValueError(
                f"entry {number} must be KEY:ROLE (ROLE one of {', '.join(API_ROLES)}), "
                "KEY:qa:USERNAME or KEY:lead:USERNAME"
            )
        if not _API_KEY.match(key):
            raise ValueError(f"entry {number}: a key needs 16 to 256 of A-Z a-z 0-9 . _ ~ + / = -")
        if key in pairs:
            raise ValueError(f"entry {number}: that key is listed twice")
        pairs[key] = role
    return tuple(pairs.items())


def _database_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme == "sqlite" and (parts.path or parts.netloc):
        return raw
    if parts.scheme in {"singlestoredb", "mysql"} and parts.hostname and parts.path.strip("/"):
        return raw
    raise ValueError("must be sqlite:///PATH or singlestoredb://USER:PASSWORD@HOST:PORT/DATABASE")


def _storage_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme == "file" and (parts.netloc or parts.path):
        return raw
    if parts.scheme in {"s3", "minio"} and parts.hostname and parts.path.strip("/"):
        return raw
    raise ValueError("must be file://DIR or s3://KEY:SECRET@HOST:PORT/BUCKET[?secure=false]")


def _url(raw: str) -> str:
    if raw and urlsplit(raw).scheme not in {"http", "https"}:
        raise ValueError("must be an http(s) URL")
    return raw.rstrip("/")


def _text(raw: str) -> str:
    if not raw.strip():
        raise ValueError("must not be empty")
    return raw.strip()


_PARSERS: dict[str, Callable[[str], Any]] = {
    "database_url": _database_url,
    "storage_url": _storage_url,
    "host": _text,
    "port": _int(1, 65535),
    "log_level": _choice("debug", "info", "warning", "error"),
    "log_format": _choice("console", "json"),
    "public_url": _url,
    "max_body_bytes": _int(1024, 1024**3),
    "max_upload_bytes": _int(1024, 1024**3),
    "max_image_pixels": _int(1, 89_478_485),  # Pillow refuses more on its own
    "pixel_budget": _int(1_000_000, 10_000_000_000),
    "pixel_wait": _float(0, 600),
    "body_timeout": _float(0.1, 3600),
    "db_pool_size": _int(1, 256),
    "web_concurrency": _int(1, 256),
    "db_connect_timeout": _float(0, 3600),
    "db_lock_wait_timeout": _int(1, 3600),
    "shutdown_grace": _float(0, 600),
    "api_keys": _api_keys,
    "max_job_images": _int(1, 1_000_000),
    "max_image_bytes": _int(1024, 1024**3),
    "job_concurrency": _int(1, 10_000),
    "processing_delay": _delay,
    "allow_private_image_urls": _bool,
    "download_timeout": _float(0.1, 600),
    "lease_seconds": _float(1, 86_400),
    "worker_enabled": _bool,
    "qa_session_size": _int(1, 1_000),
    "qa_votes": _int(1, 15),
    "qa_session_ttl": _float(1, 7 * 86_400),
    "qa_priority": _choice("random", "suspects"),
    "qa_consensus": _choice("majority", "assisted"),
    "qa_confidence": _float(0.9, 0.9999),
    "qa_trust_lead": _bool,
    "embedder": _text,
    "model_dir": _text,
    "embed_job_images": _share,
}


# Values never repeated in error messages (they end up in logs).
_SECRETS = frozenset({"api_keys", "database_url", "storage_url"})


def _check_lease(settings: Settings) -> None:
    # An image must finish within 0.8 of its lease (the worker's deadline), download and delay
    # included, or every image would time out and be retried forever.
    needed = settings.download_timeout + settings.processing_delay[1]
    if settings.lease_seconds * 0.8 <= needed:
        raise ConfigError(
            "LEASE_SECONDS",
            f"must exceed (DOWNLOAD_TIMEOUT + the longest PROCESSING_DELAY) / 0.8 = "
            f"{needed / 0.8:g} s, or no image could finish within its lease",
        )


def _validate_cross_fields(values: dict[str, Any]) -> None:
    if values.get("qa_votes", 3) % 2 == 0:
        raise ConfigError("QA_VOTES", "must be odd so that a majority always exists")


def read_dotenv(path: Path) -> dict[str, str]:
    """Parse KEY=VALUE lines; `#` comments, blank lines and surrounding quotes are allowed."""
    values: dict[str, str] = {}
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        key, sep, value = stripped.removeprefix("export ").partition("=")
        if not sep or not key.strip():
            raise ConfigError(str(path), f"line {number} is not KEY=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def load_settings(
    environ: Mapping[str, str] | None = None, dotenv: Path | None = Path(".env")
) -> Settings:
    """Build Settings from `environ` (default: the process environment over `.env`)."""
    env: dict[str, str] = {}
    if dotenv is not None and dotenv.is_file():
        env.update(read_dotenv(dotenv))
    env.update(os.environ if environ is None else environ)
    values: dict[str, Any] = {}
    for field, parse in _PARSERS.items():
        variable = field.upper()
        raw = env.get(variable)
        if raw is None:
            continue
        try:
            values[field] = parse(raw)
        except ValueError as exc:
            reason = (
                str(exc)
                if not str(exc).startswith(("invalid literal", "could not"))
                else ("is not a number")
            )
            shown = "" if field in _SECRETS else f" (got {raw!r})"
            raise ConfigError(variable, f"{reason}{shown}") from None
    _validate_cross_fields(values)
    settings = Settings(**values)
    _check_lease(settings)
    return settings


def env_names() -> list[str]:
    """The variable names Settings reads, for docs and the compose test."""
    return [field.upper() for field in _PARSERS]

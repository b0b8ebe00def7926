"""The text forms of configuration variables that a plain type cannot read on its own.

Each parser takes a variable's text and returns the value its Settings field holds, or raises
`ValueError` with what the text should have been. Bounds (ranges, lengths, patterns) are not
checked here but on the fields themselves (`service.config.Settings`), by msgspec; `env()`
attaches a parser to a field. Also here: `.env` files and the error a bad variable raises.
"""

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import msgspec

API_ROLES = ("admin", "qa", "lead", "client", "metrics")
# Roles whose keys may be bound to one person (`KEY:ROLE:USERNAME`).
BOUND_ROLES = ("qa", "lead")
API_KEY_PATTERN = r"^[A-Za-z0-9._~+/=-]{16,256}$"
USERNAME_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"  # as the QA API's `username` header
# A role as stored: a plain role, or a bound role with its username (`qa:alice`).
ROLE_PATTERN = "^({}|({})(:{})?)$".format(
    "|".join(role for role in API_ROLES if role not in BOUND_ROLES),
    "|".join(BOUND_ROLES),
    USERNAME_PATTERN[1:-1],
)


class ConfigError(ValueError):
    """A configuration variable has a value the service cannot use."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


def env(parse: Callable[[str], Any] | None = None, *, secret: bool = False) -> msgspec.Meta:
    """How a field is read from its variable: `parse` turns the text into the field's value
    (default: by its type); a `secret` value is never repeated in an error (errors are logged)."""
    return msgspec.Meta(extra={"parse": parse, "secret": secret})


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


def flag(raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("must be true or false")


def word(raw: str) -> str:
    """One of a few names, in any case."""
    return raw.strip().lower()


def text(raw: str) -> str:
    return raw.strip()


def share(raw: str) -> float | str:
    """`all`, `none`, or a fraction (its range is the field's)."""
    value = raw.strip().lower()
    return {"all": 1.0, "none": 0.0}.get(value, value)


def delay(raw: str) -> tuple[float, float]:
    """`0.1-0.4` (uniform range), `0.25` (fixed) or `0` (off); the order is checked with the
    other fields, the range on the field."""
    low, sep, high = raw.strip().partition("-")
    return (float(low), float(high) if sep else float(low))


def api_keys(raw: str) -> tuple[tuple[str, str], ...]:
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
            user and (base not in BOUND_ROLES or not re.match(USERNAME_PATTERN, user))
        ):
            raise ValueError(
                f"entry {number} must be KEY:ROLE (ROLE one of {', '.join(API_ROLES)}), "
                "KEY:qa:USERNAME or KEY:lead:USERNAME"
            )
        if not re.match(API_KEY_PATTERN, key):
            raise ValueError(f"entry {number}: a key needs 16 to 256 of A-Z a-z 0-9 . _ ~ + / = -")
        if key in pairs:
            raise ValueError(f"entry {number}: that key is listed twice")
        pairs[key] = role if user else base  # `KEY:qa:` binds no one
    return tuple(pairs.items())


def database_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme == "sqlite" and (parts.path or parts.netloc):
        return raw
    if parts.scheme in {"singlestoredb", "mysql"} and parts.hostname and parts.path.strip("/"):
        return raw
    raise ValueError("must be sqlite:///PATH or singlestoredb://USER:PASSWORD@HOST:PORT/DATABASE")


def storage_url(raw: str) -> str:
    parts = urlsplit(raw)
    if parts.scheme == "file" and (parts.netloc or parts.path):
        return raw
    if parts.scheme in {"s3", "minio"} and parts.hostname and parts.path.strip("/"):
        return raw
    raise ValueError("must be file://DIR or s3://KEY:SECRET@HOST:PORT/BUCKET[?secure=false]")


def http_url(raw: str) -> str:
    """An http(s) URL without its trailing slash, or empty."""
    if raw and urlsplit(raw).scheme not in {"http", "https"}:
        raise ValueError("must be an http(s) URL")
    return raw.rstrip("/")

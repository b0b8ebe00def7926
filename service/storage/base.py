"""The blob store interface: content-addressed bytes, local directory or S3/MinIO."""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod

# `ab/cd/<sha256>.<ext>`: a two-level fan-out keeps directories small.
_KEY = re.compile(r"^[0-9a-f]{2}/[0-9a-f]{2}/[0-9a-f]{64}(\.[a-z0-9]{1,8})?$")


class BlobError(Exception):
    """The blob store failed or refused an operation."""


class BlobNotFound(BlobError):
    """No blob has that key."""


class InvalidKey(BlobError):
    """A key that could escape the store or is not one of ours."""


def content_key(data: bytes, extension: str = "") -> str:
    """The key for these bytes: the same bytes always get the same key (stored once)."""
    digest = hashlib.sha256(data).hexdigest()
    suffix = f".{extension.lower().lstrip('.')}" if extension else ""
    return f"{digest[:2]}/{digest[2:4]}/{digest}{suffix}"


def check_key(key: str) -> str:
    if not _KEY.match(key):
        raise InvalidKey(f"invalid blob key: {key!r}")
    return key


class BlobStore(ABC):
    """Sync methods: callers run them off the event loop (`asyncio.to_thread`)."""

    @abstractmethod
    def put(self, data: bytes, extension: str = "", content_type: str | None = None) -> str:
        """Store bytes under their content key (a no-op if present); return the key."""

    @abstractmethod
    def get(self, key: str) -> bytes: ...

    @abstractmethod
    def exists(self, key: str) -> bool: ...

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove a blob; deleting a missing key is not an error."""

    @abstractmethod
    def url(self, key: str) -> str:
        """A URL a browser can fetch: `/images/<key>` locally, a presigned URL on S3."""

    @abstractmethod
    def ping(self) -> None:
        """Raise BlobError unless the store is reachable and writable."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections, if the store holds any."""

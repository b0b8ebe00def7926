"""Blob storage: pick a store from `STORAGE_URL`.

- `file://var/blobs`: a directory relative to the working directory
- `file:///srv/blobs`: an absolute directory
- `s3://KEY:SECRET@HOST:PORT/BUCKET?secure=false` (or `minio://`): see `service.storage.s3`
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlsplit

from service.storage.base import (
    BlobError,
    BlobNotFound,
    BlobStore,
    InvalidKey,
    check_key,
    content_key,
)
from service.storage.local import LocalBlobStore
from service.storage.s3 import S3BlobStore

__all__ = [
    "BlobError",
    "BlobNotFound",
    "BlobStore",
    "InvalidKey",
    "LocalBlobStore",
    "S3BlobStore",
    "check_key",
    "content_key",
    "create_blob_store",
]


def create_blob_store(url: str, public_base: str = "/images") -> BlobStore:
    """The store a storage URL names. No network I/O: an S3 bucket is checked on first use."""
    parts = urlsplit(url)
    if parts.scheme == "file":
        # file://var/blobs puts "var" in the netloc: join it back into a relative path.
        raw = unquote(parts.netloc + parts.path)
        if not raw:
            raise ValueError("file:// URL names no directory")
        return LocalBlobStore(Path(raw), public_base=public_base)
    if parts.scheme in {"s3", "minio"}:
        return S3BlobStore.from_url(url)
    raise ValueError(f"unsupported storage URL scheme {parts.scheme!r} (use file:// or s3://)")

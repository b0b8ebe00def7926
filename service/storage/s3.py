"""Blobs in an S3 bucket (MinIO, AWS or any S3 API) through the `minio` client.

Configured by one URL::

    s3://ACCESS:SECRET@HOST:PORT/BUCKET?secure=false&region=us-east-1&expires=3600
        &public_endpoint=localhost:9002

`minio://` is accepted as a synonym. Keys and secrets may be percent-encoded.
`public_endpoint` signs download URLs for another host:port than the one the service talks to
(in compose the app reaches `minio:9000`, a browser reaches `localhost:9002`).
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from urllib.parse import parse_qs, unquote, urlsplit

import urllib3
from minio import Minio
from minio.error import MinioException, S3Error
from urllib3.util import Retry, Timeout

from service.storage.base import BlobError, BlobNotFound, BlobStore, check_key, content_key

_NOT_FOUND = {"NoSuchKey", "NoSuchBucket", "NoSuchObject", "ResourceNotFound"}
_ALREADY_THERE = {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}
_MAX_EXPIRES = 7 * 24 * 3600  # the S3 limit for presigned URLs
_OPTIONS = {"secure", "region", "expires", "public_endpoint"}
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


class S3BlobStore(BlobStore):
    """Objects named by their content key in one bucket, created on first use if missing."""

    def __init__(
        self,
        endpoint: str,
        bucket: str,
        access_key: str | None = None,
        secret_key: str | None = None,
        *,
        secure: bool = True,
        region: str = "us-east-1",
        expires: int = 3600,
        public_endpoint: str | None = None,
    ) -> None:
        if not _BUCKET.match(bucket):
            raise ValueError(f"invalid bucket name {bucket!r}: 3-63 of a-z, 0-9, '.', '-'")
        if not 1 <= expires <= _MAX_EXPIRES:
            raise ValueError(f"expires must be between 1 and {_MAX_EXPIRES} seconds")
        self.bucket = bucket
        self.expires = timedelta(seconds=expires)
        # Short timeouts and few retries: /readyz must answer while S3 is down, not hang.
        self._http = urllib3.PoolManager(
            timeout=Timeout(connect=3, read=60),
            maxsize=32,
            retries=Retry(total=2, backoff_factor=0.2, status_forcelist=[500, 502, 503, 504]),
        )
        # A known region means the client never asks the server for the bucket location,
        # so presigning needs no network round trip.
        options = {"secure": secure, "region": region, "http_client": self._http}
        self._client = Minio(endpoint, access_key, secret_key, **options)
        self._signer = (
            Minio(public_endpoint, access_key, secret_key, **options)
            if public_endpoint
            else self._client
        )
        self._bucket_ready = False
        self._bucket_lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str) -> S3BlobStore:
        """Build from `s3://KEY:SECRET@HOST:PORT/BUCKET?secure=false&region=...` (or minio://)."""
        parts = urlsplit(url)
        if parts.scheme not in {"s3", "minio"}:
            raise ValueError(f"not an s3:// or minio:// URL: {parts.scheme}://")
        endpoint = parts.netloc.rpartition("@")[2]  # keeps [v6] brackets and the port
        bucket = parts.path.strip("/")
        if not parts.hostname or not bucket or "/" in bucket:
            raise ValueError("expected s3://KEY:SECRET@HOST:PORT/BUCKET")
        query = {name: values[-1] for name, values in parse_qs(parts.query).items()}
        unknown = set(query) - _OPTIONS
        if unknown:
            raise ValueError(f"unknown option(s) {', '.join(sorted(unknown))}")
        secure = query.get("secure", "true").lower()
        if secure not in {"true", "false", "1", "0"}:
            raise ValueError("secure must be true or false")
        try:
            expires = int(query.get("expires", "3600"))
        except ValueError:
            raise ValueError("expires must be a number of seconds") from None
        return cls(
            endpoint,
            bucket,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
            secure=secure in {"true", "1"},
            region=query.get("region", "us-east-1"),
            expires=expires,
            public_endpoint=query.get("public_endpoint") or None,
        )

    @contextmanager
    def _errors(self, key: str | None = None) -> Iterator[None]:
        """Turn minio and urllib3 failures into BlobError / BlobNotFound."""
        try:
            yield
        except S3Error as exc:
            if key is not None and exc.code in _NOT_FOUND:
                raise BlobNotFound(key) from None
            raise BlobError(f"S3 {exc.code}: {exc.message}") from exc
        except (MinioException, urllib3.exceptions.HTTPError, OSError) as exc:
            raise BlobError(f"S3 request failed: {exc}") from exc

    def _ensure_bucket(self) -> None:
        if self._bucket_ready:
            return
        with self._bucket_lock, self._errors():
            if self._bucket_ready:
                return
            if not self._client.bucket_exists(self.bucket):
                try:
                    self._client.make_bucket(self.bucket)
                except S3Error as exc:
                    # Another process created it between our check and our create.
                    if exc.code not in _ALREADY_THERE or not self._client.bucket_exists(
                        self.bucket
                    ):
                        raise
            self._bucket_ready = True

    def put(self, data: bytes, extension: str = "", content_type: str | None = None) -> str:
        key = check_key(content_key(data, extension))
        if self.exists(key):  # content-addressed: these bytes are already stored
            return key
        with self._errors():
            self._client.put_object(
                self.bucket,
                key,
                io.BytesIO(data),
                len(data),
                content_type=content_type or "application/octet-stream",
            )
        return key

    def get(self, key: str) -> bytes:
        check_key(key)
        with self._errors(key):
            response = self._client.get_object(self.bucket, key)
            try:
                return response.read()
            finally:
                response.close()
                response.release_conn()

    def exists(self, key: str) -> bool:
        check_key(key)
        self._ensure_bucket()
        try:
            with self._errors(key):
                self._client.stat_object(self.bucket, key)
        except BlobNotFound:
            return False
        return True

    def delete(self, key: str) -> None:
        check_key(key)
        try:
            with self._errors(key):
                self._client.remove_object(self.bucket, key)
        except BlobNotFound:
            pass  # deleting a missing blob (or from a missing bucket) is not an error

    def url(self, key: str) -> str:
        check_key(key)
        with self._errors(key):
            return self._signer.presigned_get_object(self.bucket, key, expires=self.expires)

    def ping(self) -> None:
        # Creating the bucket if needed proves both reachability and write permission.
        self._bucket_ready = False
        self._ensure_bucket()

    def close(self) -> None:
        self._http.clear()

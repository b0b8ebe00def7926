"""The S3 store against a real moto server on loopback (see conftest.py)."""

from __future__ import annotations

import socket
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from minio import Minio

from service.storage import (
    BlobError,
    BlobNotFound,
    InvalidKey,
    S3BlobStore,
    content_key,
    create_blob_store,
)

pytestmark = pytest.mark.s3


def _admin(endpoint: str) -> Minio:
    return Minio(endpoint, "testing", "testing-secret", secure=False, region="us-east-1")


def test_round_trip(s3_store: S3BlobStore) -> None:
    data = b"\xff\xd8 fake jpeg bytes"
    key = s3_store.put(data, "jpg", "image/jpeg")
    assert key == content_key(data, "jpg")
    assert s3_store.exists(key)
    assert s3_store.get(key) == data
    s3_store.delete(key)
    assert not s3_store.exists(key)
    with pytest.raises(BlobNotFound):
        s3_store.get(key)


def test_bucket_is_created_on_first_use(s3_store: S3BlobStore, moto_endpoint: str) -> None:
    admin = _admin(moto_endpoint)
    assert not admin.bucket_exists(s3_store.bucket)
    key = s3_store.put(b"first blob", "png", "image/png")
    assert admin.bucket_exists(s3_store.bucket)
    stat = admin.stat_object(s3_store.bucket, key)
    assert stat.content_type == "image/png"


def test_bucket_created_by_someone_else_meanwhile_is_fine(
    s3_url: str, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Outside us-east-1 a second create answers BucketAlreadyOwnedByYou (as MinIO always does).
    store = S3BlobStore.from_url(s3_url + "&region=eu-west-1")
    admin = Minio(moto_endpoint, "testing", "testing-secret", secure=False, region="eu-west-1")
    # Another process creates the bucket between our existence check and our create.
    real_exists = store._client.bucket_exists

    def exists_after_the_race(name: str) -> bool:
        if not admin.bucket_exists(name):
            admin.make_bucket(name)
            return False
        return real_exists(name)

    monkeypatch.setattr(store._client, "bucket_exists", exists_after_the_race)
    store.ping()
    assert store.get(store.put(b"after the race")) == b"after the race"


def test_same_bytes_are_uploaded_once(
    s3_store: S3BlobStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    uploads: list[str] = []
    real_put = s3_store._client.put_object

    def counting_put(bucket: str, name: str, *args: object, **kwargs: object) -> object:
        uploads.append(name)
        return real_put(bucket, name, *args, **kwargs)

    monkeypatch.setattr(s3_store._client, "put_object", counting_put)
    first = s3_store.put(b"same bytes", "png")
    second = s3_store.put(b"same bytes", "png")
    assert first == second
    assert uploads == [first]


def test_presigned_url_downloads(s3_url: str) -> None:
    store = S3BlobStore.from_url(s3_url + "&expires=120")
    key = store.put(b"downloadable bytes", "png", "image/png")
    url = store.url(key)
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["120"]
    response = httpx.get(url)
    assert response.status_code == 200
    assert response.content == b"downloadable bytes"


def test_presigned_url_for_public_endpoint(s3_url: str, moto_endpoint: str) -> None:
    # The service talks to 127.0.0.1; browsers are handed URLs for `localhost`.
    port = moto_endpoint.rpartition(":")[2]
    store = S3BlobStore.from_url(f"{s3_url}&public_endpoint=localhost:{port}")
    key = store.put(b"public bytes", "png")
    url = store.url(key)
    assert urlsplit(url).netloc == f"localhost:{port}"
    assert httpx.get(url).content == b"public bytes"


def test_missing_key(s3_store: S3BlobStore) -> None:
    key = content_key(b"never stored", "png")
    with pytest.raises(BlobNotFound):
        s3_store.get(key)  # before the bucket exists
    s3_store.ping()
    with pytest.raises(BlobNotFound):
        s3_store.get(key)
    assert not s3_store.exists(key)
    s3_store.delete(key)  # not an error


def test_invalid_keys_are_refused(s3_store: S3BlobStore) -> None:
    for call in (s3_store.get, s3_store.exists, s3_store.delete, s3_store.url):
        with pytest.raises(InvalidKey):
            call("../../etc/passwd")


def test_unreachable_server_is_a_blob_error() -> None:
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    store = S3BlobStore.from_url(f"s3://k:s@127.0.0.1:{port}/bucket?secure=false")
    with pytest.raises(BlobError):
        store.ping()
    with pytest.raises(BlobError):
        store.put(b"data")


@pytest.mark.parametrize(
    "url",
    [
        "s3://k:s@host:9000/",  # no bucket
        "s3://k:s@host:9000/bucket/prefix",  # nested paths are not buckets
        "s3://k:s@host:9000/bucket?secure=maybe",
        "s3://k:s@host:9000/bucket?expires=0",
        "s3://k:s@host:9000/bucket?expires=soon",
        "s3://k:s@host:9000/bucket?sekure=false",  # typos are caught
        "s3://k:s@host:9000/Bad_Bucket",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(ValueError):
        S3BlobStore.from_url(url)


def test_url_parts_are_decoded() -> None:
    store = create_blob_store(
        "minio://AKIA%2Fkey:se%2Bcret%2F@minio:9000/retail-pulse?secure=false&region=eu-west-1"
    )
    assert isinstance(store, S3BlobStore)
    assert store.bucket == "retail-pulse"
    creds = store._client._provider.retrieve()
    assert (creds.access_key, creds.secret_key) == ("AKIA/key", "se+cret/")
    url = urlsplit(store.url(content_key(b"x", "png")))  # signing needs no network
    assert (url.scheme, url.netloc) == ("http", "minio:9000")
    assert "eu-west-1" in parse_qs(url.query)["X-Amz-Credential"][0]


def test_bad_endpoint_is_refused() -> None:
    with pytest.raises(ValueError):
        S3BlobStore("host:notaport", "bucket")

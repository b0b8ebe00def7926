"""Storage fixtures: a blob directory, and a real moto S3 server on a free loopback port."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from service.storage import LocalBlobStore, S3BlobStore


@pytest.fixture
def local_store(tmp_path: Path) -> LocalBlobStore:
    return LocalBlobStore(tmp_path / "blobs")


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """`127.0.0.1:PORT` of an in-process moto server speaking the S3 API, one per session."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"{host}:{port}"
    server.stop()


@pytest.fixture
def s3_url(moto_endpoint: str) -> str:
    """A storage URL for a fresh bucket name: moto keeps state for the whole session."""
    return f"s3://testing:testing-secret@{moto_endpoint}/test-{uuid.uuid4().hex[:12]}?secure=false"


@pytest.fixture
def s3_store(s3_url: str) -> Iterator[S3BlobStore]:
    store = S3BlobStore.from_url(s3_url)
    yield store
    store.close()

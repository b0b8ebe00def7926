from __future__ import annotations

from pathlib import Path

import pytest

from service.storage import LocalBlobStore, S3BlobStore, create_blob_store


def test_relative_file_url_is_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    store = create_blob_store("file://var/blobs")
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "var" / "blobs"
    assert store.root.is_dir()


def test_absolute_file_url(tmp_path: Path) -> None:
    store = create_blob_store(f"file://{tmp_path}/abs/blobs")
    assert isinstance(store, LocalBlobStore)
    assert store.root == tmp_path / "abs" / "blobs"


def test_s3_and_minio_schemes() -> None:
    for scheme in ("s3", "minio"):
        store = create_blob_store(f"{scheme}://k:secret@minio:9000/bucket?secure=false")
        assert isinstance(store, S3BlobStore)
        assert store.bucket == "bucket"


@pytest.mark.parametrize("url", ["ftp://host/x", "var/blobs", "file://"])
def test_unsupported_urls(url: str) -> None:
    with pytest.raises(ValueError):
        create_blob_store(url)

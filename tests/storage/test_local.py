from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from service.storage import BlobError, BlobNotFound, InvalidKey, LocalBlobStore, content_key


def test_round_trip(local_store: LocalBlobStore) -> None:
    data = b"\x89PNG not really an image"
    key = local_store.put(data, "png", "image/png")
    digest = hashlib.sha256(data).hexdigest()
    assert key == f"{digest[:2]}/{digest[2:4]}/{digest}.png"
    assert local_store.exists(key)
    assert local_store.get(key) == data
    assert local_store.path_for(key) == local_store.root / key
    assert local_store.path_for(key).stat().st_mode & 0o777 == 0o644
    local_store.delete(key)
    assert not local_store.exists(key)
    with pytest.raises(BlobNotFound):
        local_store.get(key)


def test_same_bytes_are_stored_once(local_store: LocalBlobStore) -> None:
    first = local_store.put(b"same bytes", ".JPG")
    mtime = local_store.path_for(first).stat().st_mtime_ns
    second = local_store.put(b"same bytes", "jpg")
    assert first == second
    assert local_store.path_for(second).stat().st_mtime_ns == mtime  # not rewritten
    files = [p for p in local_store.root.rglob("*") if p.is_file()]
    assert files == [local_store.path_for(first)]  # no temp files left behind


def test_different_bytes_get_different_keys(local_store: LocalBlobStore) -> None:
    assert local_store.put(b"a") != local_store.put(b"b")


@pytest.mark.parametrize(
    "key",
    [
        "../../etc/passwd",
        "/etc/passwd",
        "ab/cd/../../../etc/passwd",
        "ab/cd/" + "0" * 64 + "/../x",
        "AB/CD/" + "A" * 64,
        "",
    ],
)
def test_traversal_and_foreign_keys_are_refused(local_store: LocalBlobStore, key: str) -> None:
    for call in (local_store.get, local_store.exists, local_store.delete, local_store.url):
        with pytest.raises(InvalidKey):
            call(key)


def test_bad_extension_is_refused(local_store: LocalBlobStore) -> None:
    with pytest.raises(InvalidKey):
        local_store.put(b"x", "../png")


def test_delete_of_missing_key_is_ok(local_store: LocalBlobStore) -> None:
    key = content_key(b"never stored", "png")
    assert not local_store.exists(key)
    local_store.delete(key)


def test_url_uses_public_base(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path, public_base="/static/img/")
    key = store.put(b"x", "png")
    assert store.url(key) == f"/static/img/{key}"


def test_ping_fails_when_directory_is_not_writable(tmp_path: Path) -> None:
    store = LocalBlobStore(tmp_path / "blobs")
    store.ping()
    # A file where the directory should be: writable checks cannot pass (even as root).
    store.root.rmdir()
    store.root.write_bytes(b"")
    with pytest.raises(BlobError):
        store.ping()
    with pytest.raises(BlobError):
        store.put(b"data")


def test_a_fan_out_directory_removed_behind_its_back_is_made_again(
    local_store: LocalBlobStore,
) -> None:
    """Directories are remembered (no mkdir per blob), yet one deleted meanwhile comes back."""
    import shutil

    key = local_store.put(b"first", "png")
    shutil.rmtree(local_store.path_for(key).parent.parent)
    assert local_store.put(b"first", "png") == key
    assert local_store.get(key) == b"first"

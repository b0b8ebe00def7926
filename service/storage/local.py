"""Blobs as files under one directory: the default for `make run` and the tests.

A blob is durable before `put` returns: its bytes are fsynced in a temp file, renamed into
place, and the directory fsynced, so a result row written after it never points at a file a
power cut took away.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from service.storage.base import BlobError, BlobNotFound, BlobStore, check_key, content_key


def _fsync_dir(directory: Path) -> None:
    """Make a directory's entries (a new file's name, a new subdirectory) durable."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class LocalBlobStore(BlobStore):
    """Files at `<root>/<key>`, served by the app at `<public_base>/<key>`."""

    def __init__(self, root: Path, public_base: str = "/images") -> None:
        # Absolute now, so a later chdir cannot move the store.
        self.root = Path(root).absolute()
        self.public_base = public_base.rstrip("/")
        self._made: set[Path] = set()  # fan-out directories known to exist (no mkdir per blob)
        try:
            self.root.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise BlobError(f"cannot create blob directory {self.root}: {exc}") from exc

    def path_for(self, key: str) -> Path:
        """The file behind a key; the key is checked first, so the path stays under root."""
        return self.root / check_key(key)

    def put(self, data: bytes, extension: str = "", content_type: str | None = None) -> str:
        key = check_key(content_key(data, extension))
        path = self.root / key
        if path.is_file():  # content-addressed: these bytes are already stored
            return key
        try:
            if path.parent not in self._made:
                self._make_dirs(path.parent)
            # Temp file in the same directory, then an atomic rename: readers never see a
            # partial file, and two writers of the same bytes both end with the same file.
            try:
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            except FileNotFoundError:  # the directory was removed behind our back
                self._make_dirs(path.parent)
                fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.chmod(tmp, 0o644)  # mkstemp makes 0600; blobs are meant to be served
                os.replace(tmp, path)
                _fsync_dir(path.parent)  # the rename too must be on disk before the row is
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except OSError as exc:
            raise BlobError(f"cannot write blob {key}: {exc}") from exc
        return key

    def _make_dirs(self, directory: Path) -> None:
        """The fan-out directories (`ab/cd`), each made durable in its parent."""
        for level in (directory.parent, directory):
            if not level.is_dir():
                level.mkdir(exist_ok=True)
                _fsync_dir(level.parent)
        self._made.add(directory)

    def get(self, key: str) -> bytes:
        path = self.path_for(key)
        try:
            return path.read_bytes()
        except FileNotFoundError:
            raise BlobNotFound(key) from None
        except OSError as exc:
            raise BlobError(f"cannot read blob {key}: {exc}") from exc

    def exists(self, key: str) -> bool:
        return self.path_for(key).is_file()

    def delete(self, key: str) -> None:
        path = self.path_for(key)
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            raise BlobError(f"cannot delete blob {key}: {exc}") from exc

    def url(self, key: str) -> str:
        return f"{self.public_base}/{check_key(key)}"

    def ping(self) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.root, prefix=".ping-") as fh:
                fh.write(b"ok")
        except OSError as exc:
            raise BlobError(f"blob directory {self.root} is not writable: {exc}") from exc

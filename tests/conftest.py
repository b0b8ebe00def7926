"""Fixtures shared by the whole suite: settings on temp dirs, a migrated app, a test client,
the loopback image server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from scripts.harness.image_server import ImageServer
from service.app import create_app
from service.config import SQL_DIR, Settings
from service.db import migrate_database
from tests.mariadb import mariadb_server, mariadb_url  # noqa: F401 - shared fixtures

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"


def require_shared(path: Path) -> Path:
    """A real data set beside the checkout (`../shared/data`). Absent, the test fails: a skip
    would let `make test` pass without the quality checks on real photos."""
    if not path.is_dir():
        pytest.fail(f"{path} is absent: the real data sets belong in ../shared/data", False)
    return path


@pytest.fixture
def shared_data() -> Path:
    return require_shared(SHARED_DATA)


def make_settings(folder: Path, **changes: object) -> Settings:
    """Embedded engine and local blobs under `folder`; no background worker, no delay;
    `changes` on top."""
    base = Settings(
        database_url=f"sqlite:///{folder / 'test.db'}",
        storage_url=f"file://{folder / 'blobs'}",
        processing_delay=(0.0, 0.0),
        allow_private_image_urls=True,
        worker_enabled=False,
        log_level="warning",
    )
    return msgspec.structs.replace(base, **changes) if changes else base


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def migrate_fresh(database_url: str, sql_dir: Path = SQL_DIR) -> None:
    """Apply every migration in `sql_dir` to the database at `database_url`."""
    migrate_database(database_url, sql_dir)


def migrated(settings: Settings) -> Settings:
    migrate_fresh(settings.database_url)
    return settings


def make_app(settings: Settings, **changes: object) -> Litestar:
    settings = msgspec.structs.replace(settings, **changes) if changes else settings
    return create_app(migrated(settings), configure_logs=False)


@pytest.fixture
def app(settings: Settings) -> Litestar:
    return make_app(settings)


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient[Litestar]]:
    with TestClient(app=app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def image_server() -> Iterator[ImageServer]:
    with ImageServer() as server:
        yield server

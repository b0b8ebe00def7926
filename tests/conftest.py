"""Fixtures shared by the whole suite: settings on temp dirs, a migrated app, a test client."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.app import create_app
from service.config import SQL_DIR, Settings
from service.db import create_engine, migrate
from tests.mariadb import mariadb_server, mariadb_url  # noqa: F401 - shared fixtures

SHARED = Path(__file__).resolve().parents[2] / "shared"
SHARED_DATA = SHARED / "data"


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip(f"../shared/data is absent ({SHARED_DATA}); it is always present in CI")
    return SHARED_DATA


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Embedded engine and local blobs in a temp dir; no background worker, no delay."""
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'test.db'}",
        storage_url=f"file://{tmp_path / 'blobs'}",
        processing_delay=(0.0, 0.0),
        allow_private_image_urls=True,
        worker_enabled=False,
        log_level="warning",
    )


def migrated(settings: Settings) -> Settings:
    engine = create_engine(settings.database_url, SQL_DIR)
    try:
        migrate(engine, SQL_DIR)
    finally:
        engine.close()
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

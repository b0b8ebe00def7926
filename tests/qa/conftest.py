"""QA fixtures: an app over a catalog bulk-loaded straight into the tables, and a clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from service.catalog.synthetic import load_catalog
from service.config import SQL_DIR, Settings
from service.db import Engine, create_engine
from service.qa import sessions
from service.storage import create_blob_store
from tests.conftest import make_app


def user(name: str) -> dict[str, str]:
    return {"username": name}


@dataclass
class QA:
    client: TestClient[Litestar]
    engine: Engine  # a second engine on the same database, for checks behind the API
    snapshot_ids: list[int]

    def sql(self, text: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.engine.read(lambda session: session.raw(text, params))

    def start(self, name: str) -> Any:
        return self.client.post("/qa/session", headers=user(name))

    def answer(self, name: str, session_id: int, snapshot_id: int, is_match: bool) -> Any:
        return self.client.patch(
            f"/qa/session/{session_id}/snapshot/{snapshot_id}",
            json={"is_match": is_match},
            headers=user(name),
        )


def load(settings: Settings, products: int, snapshots: int, seed: int = 0) -> list[int]:
    engine = create_engine(settings.database_url, SQL_DIR)
    blobs = create_blob_store(settings.storage_url)
    try:
        return load_catalog(engine, blobs, products=products, snapshots=snapshots, seed=seed)
    finally:
        engine.close()
        blobs.close()


@pytest.fixture
def qa_settings(settings: Settings) -> Settings:
    """The settings make_qa starts from (a test module may override this fixture)."""
    return settings


@pytest.fixture
def make_qa(qa_settings: Settings) -> Iterator[Callable[..., QA]]:
    """`make_qa(snapshots=10, products=2, qa_session_size=5, ...)`: a started app."""
    with ExitStack() as stack:

        def build(snapshots: int = 10, products: int = 2, **changes: Any) -> QA:
            app = make_app(qa_settings, **changes)  # migrates
            ids = load(app.state.settings, products, snapshots) if snapshots else []
            client = stack.enter_context(TestClient(app=app, raise_server_exceptions=False))
            engine = create_engine(app.state.settings.database_url, SQL_DIR)
            stack.callback(engine.close)
            return QA(client, engine, ids)

        yield build


class Clock:
    """Replaces sessions.utcnow: starts at the real now and moves only when told."""

    def __init__(self) -> None:
        self.now = datetime(2030, 1, 1, 12, 0, 0)

    def __call__(self) -> datetime:
        self.now += timedelta(microseconds=1)  # distinct, increasing timestamps
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(sessions, "utcnow", clock)
    return clock

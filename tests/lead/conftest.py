"""Lead fixtures: the QA fixtures (a bulk-loaded catalog behind an app, a clock) and a helper
that speaks the lead's API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from service.db.sqltext import to_pyformat
from tests.qa.conftest import QA, Clock, clock, make_qa, qa_settings, user  # noqa: F401
from tests.similarity.conftest import demo_client, demo_settings, demo_template  # noqa: F401

LEAD = "lena"


def lead(name: str = LEAD) -> dict[str, str]:
    return {"username": name}


@dataclass
class Desk:
    """The lead's API over a QA test app."""

    qa: QA

    @property
    def client(self) -> TestClient[Litestar]:
        return self.qa.client

    def sql(self, text: str, params: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        """Raw SQL behind the API, `:name` parameters on either engine."""
        if self.qa.engine.dialect != "sqlite":
            text = to_pyformat(text)
        return self.qa.sql(text, params)

    def write(self, text: str, params: dict[str, Any] | None = None) -> None:
        if self.qa.engine.dialect != "sqlite":
            text = to_pyformat(text)
        self.qa.engine.write(lambda session: session.raw(text, params))

    def snapshot(self, snapshot_id: int) -> dict[str, Any]:
        response = self.client.get(f"/api/snapshots/{snapshot_id}")
        assert response.status_code == 200, response.text
        return response.json()

    def upc_of(self, snapshot_id: int) -> str:
        return self.snapshot(snapshot_id)["product"]["upc"]

    def patch(self, snapshot_id: int, body: Any, name: str = LEAD, **headers: str) -> Any:
        return self.client.patch(
            f"/api/snapshots/{snapshot_id}", json=body, headers={**lead(name), **headers}
        )

    def move(
        self, snapshot_id: int, upc: str, version: int | None = None, name: str = LEAD,
        reason: str | None = None,
    ) -> Any:  # fmt: skip
        """Move it (at its current version unless one is given)."""
        if version is None:
            version = self.snapshot(snapshot_id)["version"]
        body: dict[str, Any] = {"product_upc": upc, "version": version}
        if reason is not None:
            body["reason"] = reason
        return self.patch(snapshot_id, body, name)

    def undo(self, snapshot_id: int, version: int | None = None, name: str = LEAD) -> Any:
        if version is None:
            version = self.snapshot(snapshot_id)["version"]
        return self.client.post(
            f"/api/snapshots/{snapshot_id}/undo", json={"version": version}, headers=lead(name)
        )

    def history(self, snapshot_id: int) -> list[dict[str, Any]]:
        response = self.client.get(f"/api/snapshots/{snapshot_id}/history")
        assert response.status_code == 200, response.text
        return response.json()["moves"]

    def upcs(self) -> list[str]:
        return [p["upc"] for p in self.client.get("/api/products").json()["items"]]

    def other_upc(self, snapshot_id: int) -> str:
        own = self.upc_of(snapshot_id)
        return next(upc for upc in self.upcs() if upc != own)

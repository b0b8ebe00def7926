"""The HTTP surface every feature shares: health, errors, docs, request ids, images."""

from litestar import Litestar
from litestar.testing import TestClient

from service.config import Settings
from service.db import DatabaseUnavailable
from service.storage import create_blob_store
from tests.conftest import make_app


def test_healthz(client: TestClient[Litestar]) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_when_database_and_storage_answer(client: TestClient[Litestar]) -> None:
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ready", "database": "ok", "storage": "ok"}


def test_readyz_is_503_when_the_database_is_gone(settings: Settings, monkeypatch) -> None:
    app = make_app(settings)
    with TestClient(app=app, raise_server_exceptions=False) as client:
        engine = client.app.state.services.db.engine

        def unreachable() -> None:
            raise DatabaseUnavailable("connection refused")

        monkeypatch.setattr(engine, "ping", unreachable)
        response = client.get("/readyz")
    assert response.status_code == 503
    body = response.json()
    assert body["error"] == "not ready"
    assert body["database"] == "error: DatabaseUnavailable: connection refused"
    assert body["storage"] == "ok"


def test_unknown_route_has_the_json_error_shape(client: TestClient[Litestar]) -> None:
    response = client.get("/no/such/thing")
    assert response.status_code == 404
    assert set(response.json()) == {"error"}


def test_wrong_method_has_the_json_error_shape(client: TestClient[Litestar]) -> None:
    response = client.delete("/healthz")
    assert response.status_code == 405
    assert set(response.json()) == {"error"}


def test_request_id_is_echoed_or_made(client: TestClient[Litestar]) -> None:
    assert (
        client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["x-request-id"]
        == "abc-123"
    )
    made = client.get("/healthz", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"]
    assert made != "bad id\n" and len(made) == 32


def test_openapi_schema_and_swagger_ui(client: TestClient[Litestar]) -> None:
    schema = client.get("/core/public/v1/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/healthz" in paths and "/readyz" in paths
    for path_item in paths.values():
        for operation in path_item.values():
            if isinstance(operation, dict) and "responses" in operation:
                assert operation.get("operationId"), operation
                assert operation.get("summary"), operation
    docs = client.get("/core/public/v1/docs")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text.lower()


def test_stored_image_is_served_by_key(client: TestClient[Litestar], settings: Settings) -> None:
    blobs = create_blob_store(settings.storage_url)
    key = blobs.put(b"\x89PNG fake bytes", "png")
    response = client.get(f"/images/{key}")
    assert response.status_code == 200
    assert response.content == b"\x89PNG fake bytes"
    assert response.headers["content-type"] == "image/png"


def test_image_keys_cannot_escape_the_store(client: TestClient[Litestar]) -> None:
    for key in ["../../etc/passwd", "..%2F..%2Fetc%2Fpasswd", "aa/bb/nothing.png"]:
        response = client.get(f"/images/{key}")
        assert response.status_code == 404, key
        assert "error" in response.json()

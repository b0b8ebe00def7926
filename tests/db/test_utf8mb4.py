"""4-byte UTF-8 (emoji) end to end on a server whose default character set holds 3 bytes a
character, as SingleStore's documented default (`utf8`) does. MariaDB's usual default,
utf8mb4, would hide the problem, so this starts a second MariaDB with utf8mb3."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from service.config import SQL_DIR, Settings
from service.db import DatabaseError, create_engine, migrate
from service.jobs.stores import load_stores_command
from tests.catalog.conftest import create_product
from tests.conftest import make_app
from tests.mariadb import MariaDBServer, start

pytestmark = pytest.mark.mariadb

NAME = "Choco 🍫 Crunch 𝄞"  # two 4-byte characters
THREE_BYTE_DEFAULT = ("--character-set-server=utf8mb3", "--collation-server=utf8mb3_general_ci")


@pytest.fixture(scope="module")
def utf8mb3_server() -> Iterator[MariaDBServer]:
    server = start(options=THREE_BYTE_DEFAULT)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def utf8mb3_url(utf8mb3_server: MariaDBServer, request: pytest.FixtureRequest) -> Iterator[str]:
    name = f"utf8_{request.node.name[:40]}".replace("[", "_").replace("]", "")
    utf8mb3_server.execute(f"CREATE DATABASE {name}")
    yield utf8mb3_server.url(name)
    utf8mb3_server.execute(f"DROP DATABASE IF EXISTS {name}")


def test_the_server_defaults_to_three_bytes(utf8mb3_server: MariaDBServer) -> None:
    assert utf8mb3_server.execute("SELECT @@character_set_server") == [("utf8mb3",)]


def test_without_utf8mb4_columns_the_server_refuses_an_emoji(
    utf8mb3_url: str, tmp_path: Path
) -> None:
    """The failure this guards against: the schema as it was before 0006_utf8mb4."""
    before = tmp_path / "sql"
    shutil.copytree(SQL_DIR, before)
    (before / "singlestore" / "0006_utf8mb4.sql").unlink()
    engine = create_engine(utf8mb3_url, before)
    try:
        migrate(engine, before)
        with pytest.raises(DatabaseError, match="Incorrect string value"):
            engine.write(
                lambda s: s.raw(
                    "INSERT INTO products (upc, name, image_key, image_width, image_height, "
                    "image_format, created_at) VALUES ('12345678', %(name)s, 'k', 1, 1, 'PNG', "
                    "NOW())",
                    {"name": NAME},
                )
            )
    finally:
        engine.close()


def test_a_four_byte_name_round_trips_through_the_api(
    settings: Settings, utf8mb3_url: str, tmp_path: Path
) -> None:
    from litestar.testing import TestClient

    app = make_app(msgspec.structs.replace(settings, database_url=utf8mb3_url))
    with TestClient(app=app, raise_server_exceptions=False) as client:
        created = create_product(client, upc="12345678", name=NAME)
        assert created.status_code == 201, created.text
        assert client.get("/api/products/12345678").json()["name"] == NAME
        page = client.get("/api/products").json()
        assert [item["name"] for item in page["items"]] == [NAME]

    stores = tmp_path / "stores.csv"
    stores.write_text(f"AreaCode,StoreName,StoreID\r\n7100015,{NAME},RP00001\r\n")
    loaded = msgspec.structs.replace(settings, database_url=utf8mb3_url)
    assert load_stores_command(loaded, stores) == 0
    engine = create_engine(utf8mb3_url, SQL_DIR)
    try:
        rows = engine.read(lambda s: s.raw("SELECT store_name FROM stores"))
    finally:
        engine.close()
    assert rows == [{"store_name": NAME}]

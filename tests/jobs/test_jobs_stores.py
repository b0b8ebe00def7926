"""The store master: CSV format quirks, all-or-nothing loads, `load-stores`, the seeder."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from service.__main__ import main
from service.config import Settings
from service.jobs.stores import (
    StoreFileError,
    demo_store_master,
    parse_store_master,
    seed_stores,
)
from service.services import open_services
from tests.conftest import migrated


@pytest.mark.parametrize(
    "data",
    [
        b'AreaCode,StoreName,StoreID\r\n7000129,"AB REHMAN,-1",RP00902\r\n'
        b"7100015,B P STORE,RP00001",
        b'AreaCode,StoreName,StoreID\n7000129,"AB REHMAN,-1",RP00902\n7100015,B P STORE,RP00001\n',
        b'\xef\xbb\xbfAreaCode,StoreName,StoreID\r\n7000129,"AB REHMAN,-1",RP00902\r\n'
        b"7100015,B P STORE,RP00001\r\n\r\n",
        b'StoreID,AreaCode,StoreName\nRP00902,7000129,"AB REHMAN,-1"\nRP00001,7100015,B P STORE',
    ],
    ids=["crlf-no-final-newline", "lf", "bom-and-blank-line", "other-column-order"],
)
def test_format_variants_parse_the_same(data: bytes) -> None:
    stores = parse_store_master(data)
    assert [(s.store_id, s.store_name, s.area_code) for s in stores] == [
        ("RP00902", "AB REHMAN,-1", "7000129"),
        ("RP00001", "B P STORE", "7100015"),
    ]


def test_double_spaces_inside_names_are_kept() -> None:
    [store] = parse_store_master(b"AreaCode,StoreName,StoreID\n1,SAI  KIRANA ,RP1")
    assert store.store_name == "SAI  KIRANA"


def test_bad_rows_are_reported_by_line_number() -> None:
    data = (
        b"AreaCode,StoreName,StoreID\r\n"
        b"7100015,GOOD,RP00001\r\n"
        b"7100015,UNQUOTED, WITH COMMA,RP00002\r\n"
        b"7100015,,RP00003\r\n"
        b"\r\n"
        b"7100015,DUPLICATE,RP00001\r\n"
        b"7100015,BAD ID,RP 00005"
    )
    with pytest.raises(StoreFileError) as caught:
        parse_store_master(data)
    assert caught.value.problems == [
        "line 3: expected 3 fields (AreaCode,StoreName,StoreID), got 4 "
        "(quote names that contain commas)",
        "line 4: StoreName is empty",
        "line 6: StoreID RP00001 repeats line 2",
        "line 7: StoreID 'RP 00005' may hold only letters, digits, '-', '_' and '.'",
    ]


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (b"", "the file is empty"),
        (b"Area,Name,Id\n1,a,b", "line 1: header must be AreaCode,StoreName,StoreID"),
        (b"AreaCode,StoreName,StoreID\r\n", "the file has a header but no stores"),
        (b'AreaCode,StoreName,StoreID\n1,"open quote,RP1\n', "malformed CSV"),
        (b"AreaCode,StoreName,StoreID\n1,caf\xe9,RP1", "not UTF-8"),
    ],
)
def test_unloadable_files(data: bytes, problem: str) -> None:
    with pytest.raises(StoreFileError) as caught:
        parse_store_master(data)
    assert problem in str(caught.value)


def store_rows(settings: Settings) -> list[dict]:
    async def read() -> list[dict]:
        async with open_services(settings) as services:
            return await services.db.read(
                lambda s: s.raw(
                    "SELECT store_id, store_name, area_code FROM stores ORDER BY store_id"
                )
            )

    return asyncio.run(read())


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STORAGE_URL", settings.storage_url)
    monkeypatch.setenv("LOG_LEVEL", "warning")
    return migrated(settings)


def test_load_stores_loads_the_assignment_file(
    cli_settings: Settings, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_data / "StoreMasterAssignment.csv"
    assert main(["load-stores", str(path)]) == 0
    assert "loaded 4944 stores" in capsys.readouterr().out
    rows = store_rows(cli_settings)
    assert len(rows) == 4944
    assert rows[0]["store_id"] == "RP00001" and rows[-1]["store_id"] == "RP04944"
    assert sum("," in row["store_name"] for row in rows) == 345
    assert {row["area_code"] for row in rows} == {"7100015", "7000129"}
    by_id = {row["store_id"]: row for row in rows}
    assert by_id["RP00902"]["store_name"] == "AB REHMAN,-1"

    # Loading again updates in place: same count, nothing new.
    assert main(["load-stores", str(path)]) == 0
    assert "4944 new" not in (out := capsys.readouterr().out) and "0 new, 4944 updated" in out
    assert len(store_rows(cli_settings)) == 4944


def test_load_stores_with_a_bad_row_loads_nothing(
    cli_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "stores.csv"
    path.write_bytes(b"AreaCode,StoreName,StoreID\n1,GOOD,RP1\n2,ALSO GOOD,RP2\n3,,RP3\n")
    assert main(["load-stores", str(path)]) == 1
    err = capsys.readouterr().err
    assert "nothing loaded" in err and "line 4: StoreName is empty" in err
    assert store_rows(cli_settings) == []
    assert main(["load-stores", str(tmp_path / "missing.csv")]) == 1


def test_load_stores_upserts_names(cli_settings: Settings, tmp_path: Path) -> None:
    path = tmp_path / "stores.csv"
    path.write_bytes(b"AreaCode,StoreName,StoreID\n1,OLD NAME,RP1\n")
    assert main(["load-stores", str(path)]) == 0
    path.write_bytes(b"AreaCode,StoreName,StoreID\n9,NEW NAME,RP1\n2,OTHER,RP2\n")
    assert main(["load-stores", str(path)]) == 0
    assert store_rows(cli_settings) == [
        {"store_id": "RP1", "store_name": "NEW NAME", "area_code": "9"},
        {"store_id": "RP2", "store_name": "OTHER", "area_code": "2"},
    ]


def test_demo_master_is_in_the_assignment_format() -> None:
    data = demo_store_master()
    assert data.startswith(b"AreaCode,StoreName,StoreID\r\n") and not data.endswith(b"\n")
    stores = parse_store_master(data)
    assert stores[0].store_id == "RP00001" and len(stores) == 60
    assert any("," in s.store_name for s in stores)


def test_seeder_fills_only_an_empty_table(settings: Settings) -> None:
    async def go() -> list[str]:
        async with open_services(migrated(settings)) as services:
            return [
                await seed_stores(services, False),
                await seed_stores(services, False),
                await seed_stores(services, True),
            ]

    first, second, forced = asyncio.run(go())
    assert first == "60 demo stores (60 new, 0 updated)"
    assert second == "skipped, 60 stores already loaded"
    assert forced == "60 demo stores (0 new, 60 updated)"

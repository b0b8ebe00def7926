"""import-catalog: the trax-sample layout, idempotence, and bad files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from service.__main__ import main
from service.config import Settings
from tests.catalog.conftest import image_bytes
from tests.conftest import migrated


def _run(settings: Settings, directory: Path, monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STORAGE_URL", settings.storage_url)
    monkeypatch.setenv("LOG_LEVEL", "warning")
    return main(["import-catalog", str(directory)])


def _counts(settings: Settings) -> tuple[int, int]:
    import sqlite3

    from service.db import sqlite_path

    with sqlite3.connect(sqlite_path(settings.database_url)) as db:
        products = db.execute("SELECT COUNT(*) FROM products").fetchone()[0]
        snapshots = db.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0]
    return products, snapshots


def test_import_trax_sample_twice(
    settings: Settings, shared_data: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    root = shared_data / "trax-sample"
    expected_products = len(list((root / "products").glob("*.jpg")))
    expected_snapshots = len(list((root / "snapshots").glob("*/*.jpg")))
    migrated(settings)
    assert _run(settings, root, monkeypatch) == 0
    out, err = capsys.readouterr()
    assert f"products: {expected_products} added" in out
    assert f"snapshots: {expected_snapshots} added" in out
    assert "import catalog" not in err  # the progress bar is drawn only on a terminal
    assert _counts(settings) == (expected_products, expected_snapshots)

    assert _run(settings, root, monkeypatch) == 0  # idempotent
    out, _ = capsys.readouterr()
    assert f"products: 0 added, {expected_products} already present" in out
    assert f"snapshots: 0 added, {expected_snapshots} already present" in out
    assert _counts(settings) == (expected_products, expected_snapshots)


def test_import_reports_bad_files_and_keeps_going(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    root = tmp_path / "catalog"
    (root / "products").mkdir(parents=True)
    (root / "snapshots" / "12345678").mkdir(parents=True)
    (root / "snapshots" / "87654321").mkdir(parents=True)
    (root / "products" / "12345678.png").write_bytes(image_bytes(fmt="PNG"))
    (root / "products" / "not-a-upc.jpg").write_bytes(image_bytes())
    (root / "products" / "11111111.jpg").write_bytes(b"broken")
    (root / "products" / "notes.txt").write_text("ignored: not an image suffix")
    (root / "products.csv").write_text("upc,name\n12345678,Named Product\n")
    good = image_bytes(colour=(1, 2, 3))
    (root / "snapshots" / "12345678" / "a.jpg").write_bytes(good)
    shutil.copy(
        root / "snapshots" / "12345678" / "a.jpg", root / "snapshots" / "12345678" / "b.jpg"
    )
    (root / "snapshots" / "12345678" / "c.jpg").write_bytes(image_bytes(colour=(9, 9, 9)))
    (root / "snapshots" / "87654321" / "x.jpg").write_bytes(good)  # no such product
    migrated(settings)

    assert _run(settings, root, monkeypatch) == 1
    out, err = capsys.readouterr()
    assert "not-a-upc.jpg: file name is not a UPC" in err
    assert "11111111.jpg: the file is not a readable image" in err
    assert "x.jpg: no product with UPC 87654321" in err
    # b.jpg has a.jpg's bytes: the same snapshot, stored once
    assert "products: 1 added" in out and "snapshots: 2 added, 1 already present" in out
    assert _counts(settings) == (1, 2)

    import sqlite3

    from service.db import sqlite_path

    with sqlite3.connect(sqlite_path(settings.database_url)) as db:
        assert db.execute("SELECT name FROM products").fetchone()[0] == "Named Product"
        sources = {row[0] for row in db.execute("SELECT source FROM snapshots")}
    assert sources == {"12345678/a.jpg", "12345678/c.jpg"}


def test_import_of_a_folder_without_the_layout(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    migrated(settings)
    assert _run(settings, tmp_path, monkeypatch) == 2
    assert "neither a products/ nor a snapshots/ folder" in capsys.readouterr().err

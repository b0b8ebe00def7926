"""Migrations on both engines: in order, once, with checksums; SingleStore DDL on MariaDB."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from service.config import SQL_DIR
from service.db import Engine, MigrationError, create_engine, migrate
from service.db.migrations import REVISED, discover
from service.db.mysql_compat import translate_ddl
from service.db.sqltext import split_statements, strip_comments

# The same two steps per dialect; the second needs the first (ALTER of its table, rows in it).
STEPS = {
    "sqlite": {
        "0001_notes.sql": "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL);",
        "0002_note_tags.sql": "ALTER TABLE notes ADD COLUMN tag TEXT NULL;\n"
        "INSERT INTO notes (id, body, tag) VALUES (1, 'first; with a semicolon', 'x');",
    },
    "singlestore": {
        "0001_notes.sql": "CREATE ROWSTORE TABLE notes (\n    id BIGINT NOT NULL,\n"
        "    body TEXT NOT NULL,\n    PRIMARY KEY (id),\n    SHARD KEY (id)\n);",
        "0002_note_tags.sql": "ALTER TABLE notes ADD COLUMN tag VARCHAR(20) NULL;\n"
        "INSERT INTO notes (id, body, tag) VALUES (1, 'first; with a semicolon', 'x');",
    },
}

EngineFactory = Callable[[Path], Engine]


@pytest.fixture(params=["sqlite", "mariadb"])
def make_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EngineFactory]:
    """Engines on one database (SQLite file or MariaDB database) for a given sql dir."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'm.db'}"
    else:
        url = request.getfixturevalue("mariadb_url")
    engines: list[Engine] = []

    def make(sql_dir: Path) -> Engine:
        engines.append(create_engine(url, sql_dir))
        return engines[-1]

    yield make
    for engine in engines:
        engine.close()


def sql_dir_with(root: Path, dialect: str, files: dict[str, str]) -> Path:
    folder = root / "sql" / dialect
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return root / "sql"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def recorded(engine: Engine) -> list[tuple[int, str, str]]:
    rows = engine.read(
        lambda s: s.raw("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
    )
    return [(row["version"], row["name"], row["checksum"]) for row in rows]


def test_applied_in_order_once_with_checksums(make_engine: EngineFactory, tmp_path: Path) -> None:
    engine = make_engine(tmp_path / "empty")  # no sql dir yet: nothing to do, table created
    dialect = engine.dialect
    assert migrate(engine, tmp_path / "empty") == []
    sql_dir = sql_dir_with(tmp_path, dialect, STEPS[dialect])
    engine = make_engine(sql_dir)
    applied = migrate(engine, sql_dir)
    assert [(m.version, m.name) for m in applied] == [(1, "notes"), (2, "note_tags")]
    expected = [
        (1, "notes", sha256(sql_dir / dialect / "0001_notes.sql")),
        (2, "note_tags", sha256(sql_dir / dialect / "0002_note_tags.sql")),
    ]
    assert recorded(engine) == expected
    assert engine.read(lambda s: s.raw("SELECT body, tag FROM notes")) == [
        {"body": "first; with a semicolon", "tag": "x"}
    ]
    # Re-running is a no-op, also from a fresh engine (another process).
    assert migrate(engine, sql_dir) == []
    assert migrate(make_engine(sql_dir), sql_dir) == []
    assert recorded(engine) == expected


def test_a_new_file_is_applied_on_the_next_run(make_engine: EngineFactory, tmp_path: Path) -> None:
    dialect = make_engine(tmp_path).dialect
    first = dict(list(STEPS[dialect].items())[:1])
    sql_dir = sql_dir_with(tmp_path, dialect, first)
    engine = make_engine(sql_dir)
    assert [m.version for m in migrate(engine, sql_dir)] == [1]
    sql_dir_with(tmp_path, dialect, STEPS[dialect])
    assert [m.version for m in migrate(engine, sql_dir)] == [2]


def test_editing_an_applied_file_is_an_error(make_engine: EngineFactory, tmp_path: Path) -> None:
    dialect = make_engine(tmp_path).dialect
    sql_dir = sql_dir_with(tmp_path, dialect, STEPS[dialect])
    engine = make_engine(sql_dir)
    migrate(engine, sql_dir)
    path = sql_dir / dialect / "0001_notes.sql"
    path.write_text(path.read_text() + "\n-- an innocent-looking comment\n")
    with pytest.raises(MigrationError, match="0001_notes.sql was edited after it was applied"):
        migrate(engine, sql_dir)


def test_failing_migration_is_reported_and_not_recorded(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    dialect = make_engine(tmp_path).dialect
    files = dict(STEPS[dialect]) | {"0003_broken.sql": "CREATE TABLE broken (;"}
    sql_dir = sql_dir_with(tmp_path, dialect, files)
    engine = make_engine(sql_dir)
    with pytest.raises(MigrationError, match="0003_broken.sql failed"):
        migrate(engine, sql_dir)
    assert [version for version, _, _ in recorded(engine)] == [1, 2]


# What databases recorded for the migrations that shipped. A file that ran is never edited;
# quoting its identifiers (restricted keywords) is allowed: the checksum ignores the backticks.
SHIPPED = {
    "sqlite": [
        "677c0686071a63cca22213360e04053a45274dcbf5da6e748125c8599b7c4d99",
        "ee12c8ce206fb630c2c3ce68846f21f456f37671ca16b0fb8870a115df0bc95c",
        "96c4920eb2e6358da341e34141bb748dad0de9e2cd09149b411980abc6d29443",
        "f95f108dafb1db4675260aa8af2f1f10790a9ef4ba25287bd0f4adcc5586d1f7",
        "c77dc11cb5c324db5045f08b5f7560ec5532fbc6e3bf2bb08eaa9bbc62aa0ed5",
        "1a176cd971fe03da51a6bb02c81db14e5093a5596034913453763117634a85f9",
        "47455de8f2d0ac4578dbcca36dd8f1267661476dc4773c136fdd87c03a1d0c21",
        "760c161e9ffa1cc7a7a0554090ed3e8958a43d9bb424bb336f0f5e9c7e25fbce",
    ],
    "singlestore": [
        "9d96d7e476809b59da8c42432a5c07ac9a55ff6cba8c174fa1bec151d96bafbe",
        "fa273774357856e8adb0daf1b2f2b2a7d802bb52ace61cbad7d276462a0e8278",
        "2b21ac4d5f3748ff26fd48808a105db8e69028b5c1e677deeab02b7e529db56a",
        "b2d26e50f717af0031ed9f2d4d01b6f5dd333fb79d7dc5790f8b03bb28f5c5bf",
        "319cd2e3877b8b28bfc442d9e02d195c5fd68cd4bd82fc5a65013ef542ed7bab",
        "cae801fd67408ab58f437c804753072c76e84a79174a1e551fe43d860306ad36",
        "e7b5ac4e0744c1c92557bf1cb29c4d2c079ece96ae5aaef10e537c1b75285daa",
        "0cc67b04c60809932a4beca5db2b7789c6dddc38ba050166f0557b8fc8d167b4",
    ],
}


@pytest.mark.parametrize("dialect", sorted(SHIPPED))
def test_shipped_migrations_keep_their_checksums(dialect: str) -> None:
    """Unchanged, or revised (migrations.REVISED) with the shipped checksum still accepted."""
    migrations = discover(SQL_DIR, dialect)
    for migration, shipped in zip(migrations, SHIPPED[dialect], strict=False):
        revised = REVISED.get((dialect, migration.version))
        if revised is None:
            assert migration.checksum == shipped, migration.path.name
        else:
            assert shipped in revised and migration.checksum != shipped, migration.path.name
    assert {dialect for dialect, _ in REVISED} == {"singlestore"}  # SQLite's: none


@pytest.mark.mariadb
def test_a_database_that_ran_a_revised_file_before_is_up_to_date(mariadb_url: str) -> None:
    engine = create_engine(mariadb_url, SQL_DIR, pool_size=1)
    try:
        migrate(engine, SQL_DIR)
        shipped = SHIPPED["singlestore"][5]  # 0006 as it first shipped

        def record(checksum: str) -> None:
            engine.write(
                lambda s: s.raw(
                    "UPDATE schema_migrations SET `checksum` = %(c)s WHERE `version` = 6",
                    {"c": checksum},
                )
            )

        record(shipped)
        assert migrate(engine, SQL_DIR) == []
        record("0" * 64)  # any other text is still an edit
        with pytest.raises(MigrationError, match="0006_utf8mb4.sql was edited"):
            migrate(engine, SQL_DIR)
    finally:
        engine.close()


def test_quoting_a_name_keeps_the_checksum_and_any_other_edit_changes_it(
    make_engine: EngineFactory, tmp_path: Path
) -> None:
    dialect = make_engine(tmp_path).dialect
    sql_dir = sql_dir_with(tmp_path, dialect, STEPS[dialect])
    engine = make_engine(sql_dir)
    migrate(engine, sql_dir)
    path = sql_dir / dialect / "0002_note_tags.sql"
    text = path.read_text()
    path.write_text(text.replace("ADD COLUMN tag", "ADD COLUMN `tag`"))
    assert migrate(engine, sql_dir) == []  # the same migration: applied already
    for edit in ("'first; with a `semicolon`'", "-- a `comment`\n'first; with a semicolon'"):
        path.write_text(text.replace("'first; with a semicolon'", edit))
        with pytest.raises(MigrationError, match="0002_note_tags.sql was edited"):
            migrate(engine, sql_dir)


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({"1_short.sql": "SELECT 1;"}, "named NNNN_name.sql"),
        ({"0001_Upper.sql": "SELECT 1;"}, "named NNNN_name.sql"),
        ({"0001_a.sql": "SELECT 1;", "0001_b.sql": "SELECT 1;"}, "share a version number"),
    ],
)
def test_bad_file_names(tmp_path: Path, files: dict[str, str], problem: str) -> None:
    sql_dir = sql_dir_with(tmp_path, "sqlite", files)
    engine = create_engine(f"sqlite:///{tmp_path / 'm.db'}", sql_dir)
    with pytest.raises(MigrationError, match=problem):
        migrate(engine, sql_dir)
    engine.close()


# -- SingleStore DDL on MariaDB ----------------------------------------------------------------

SINGLESTORE_DDL = """
-- Everything SingleStore-only that our DDL uses.
CREATE ROWSTORE REFERENCE TABLE shelves (
    id   INT NOT NULL,
    name VARCHAR(50) NOT NULL DEFAULT 'a, SHARD KEY (x)',  -- a string that looks like a clause
    PRIMARY KEY (id)
);

CREATE REFERENCE TABLE brands (id INT NOT NULL PRIMARY KEY, name VARCHAR(50));

CREATE TABLE embeddings (
    snapshot_id BIGINT NOT NULL,
    model       VARCHAR(40) NOT NULL,
    embedding   VECTOR(4, F32) NOT NULL,
    plain       VECTOR(4) NULL,
    created_at  DATETIME(6) NOT NULL,
    SORT KEY (created_at),
    SHARD KEY (snapshot_id),
    UNIQUE KEY (snapshot_id, model) USING HASH,
    VECTOR INDEX embeddings_ivf (embedding) INDEX_OPTIONS '{"index_type":"IVF_FLAT"}'
);

CREATE ROWSTORE TABLE keyless (SHARD KEY (), id BIGINT NOT NULL, note TEXT);

ALTER TABLE embeddings ADD VECTOR INDEX embeddings_hnsw (embedding)
    INDEX_OPTIONS '{"index_type":"HNSW_FLAT","metric_type":"DOT_PRODUCT"}';
"""


def test_translate_ddl_drops_what_mariadb_lacks() -> None:
    created = translate_ddl(
        "CREATE ROWSTORE REFERENCE TABLE t (\n  id INT,\n  v VECTOR(8, F32) NOT NULL,\n"
        "  PRIMARY KEY (id),\n  SHARD KEY (id),\n  SORT KEY (id DESC),\n"
        "  KEY (id) USING CLUSTERED COLUMNSTORE\n)"
    )
    assert created == "CREATE TABLE t (\n  id INT,\n  v BLOB NOT NULL,\n  PRIMARY KEY (id)\n)"
    assert translate_ddl("ALTER TABLE t ADD VECTOR INDEX i (v)") is None
    assert translate_ddl("-- only a comment") is None
    assert translate_ddl("INSERT INTO t VALUES ('SHARD KEY (x)')") == (
        "INSERT INTO t VALUES ('SHARD KEY (x)')"
    )


@pytest.mark.mariadb
def test_singlestore_ddl_applies_on_mariadb(mariadb_url: str, tmp_path: Path) -> None:
    sql_dir = sql_dir_with(tmp_path, "singlestore", {"0001_everything.sql": SINGLESTORE_DDL})
    engine = create_engine(mariadb_url, sql_dir)
    assert [m.version for m in migrate(engine, sql_dir)] == [1]
    columns = engine.read(
        lambda s: s.raw(
            "SELECT TABLE_NAME AS t, COLUMN_NAME AS c, DATA_TYPE AS type, COLUMN_DEFAULT AS d "
            "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_NAME <> 'schema_migrations' ORDER BY TABLE_NAME, ORDINAL_POSITION"
        )
    )
    types = {(row["t"], row["c"]): row["type"] for row in columns}
    assert set(types) >= {("shelves", "name"), ("brands", "id"), ("keyless", "note")}
    assert types[("embeddings", "embedding")] == types[("embeddings", "plain")] == "blob"
    defaults = {(row["t"], row["c"]): row["d"] for row in columns}
    assert defaults[("shelves", "name")] == "'a, SHARD KEY (x)'"
    engine.close()


def test_no_alter_modify_on_a_columnstore_table() -> None:
    """SingleStore's docs do not confirm ALTER TABLE ... MODIFY for columnstore tables (the
    default kind: CREATE TABLE without ROWSTORE), so the migrations never use it on one."""
    statements = [
        " ".join(strip_comments(s).split())
        for m in discover(SQL_DIR, "singlestore")
        for s in split_statements(m.path.read_text())
    ]
    created = [re.match(r"CREATE (ROWSTORE )?(?:REFERENCE )?TABLE (\w+)", s) for s in statements]
    columnstore = {m.group(2) for m in created if m and not m.group(1)}
    assert {"image_results", "product_embeddings"} <= columnstore
    modified = {m.group(1) for s in statements if (m := re.match(r"ALTER TABLE (\w+) MODIFY", s))}
    assert modified and not modified & columnstore

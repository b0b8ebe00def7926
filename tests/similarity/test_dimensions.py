"""VECTOR(n) follows the embedder: `reembed` refuses a model of another size without
--prune, and with it makes the embedding tables again for the new size."""

from __future__ import annotations

import io

import msgspec
import pytest

from service.config import SQL_DIR, Settings
from service.db import Queries, create_engine, migrate
from service.services import Services
from service.similarity.background.reembed import reembed
from service.similarity.index import dimensions
from tests.similarity.conftest import run
from tests.similarity.tiny_model import write_tiny_model


@pytest.mark.parametrize(
    ("column_type", "size"),
    [("vector(580, F32)", 580), ("VECTOR(1280,F32)", 1280), ("vector(3)", 3), ("blob", None),
     ("longblob", None), ("", None)],
)  # fmt: skip
def test_declared_sizes_are_read_from_the_column_type(column_type: str, size: int | None) -> None:
    assert dimensions.declared(column_type) == size


class FakeSession:
    """Answers the column-type query as SingleStore would; runs the resize DDL on its tables
    and records it. `crash_after`: raise after that many statements (a process killed)."""

    def __init__(self, size: int, crash_after: int | None = None) -> None:
        self.sizes: dict[str, int] = dict.fromkeys(dimensions.TABLES, size)
        self.executed: list[tuple[str, dict | None]] = []
        self.crash_after = crash_after

    def fetch_all(self, name: str, params=None):  # type: ignore[no-untyped-def]
        assert name == "similarity_vector_columns"
        return [{"table_name": t, "column_type": f"vector({n}, F32)"}
                for t, n in self.sizes.items()]  # fmt: skip

    def execute(self, name: str, params=None):  # type: ignore[no-untyped-def]
        if self.crash_after is not None and len(self.executed) == self.crash_after:
            raise KeyboardInterrupt("killed")
        self.executed.append((name, params))
        table = name.split("_", 3)[3]
        if name.startswith("similarity_resize_drop_"):
            del self.sizes[table]
        elif name.startswith("similarity_resize_create_"):
            assert table not in self.sizes, "CREATE of a table that exists"
            self.sizes[table] = params["dimension"]


def test_only_singlestore_columns_of_another_size_mismatch() -> None:
    session = FakeSession(580)
    assert dimensions.mismatched(session, "singlestore", 580) == {}
    assert dimensions.mismatched(session, "singlestore", 1280) == dict.fromkeys(
        dimensions.TABLES, 580
    )
    assert dimensions.mismatched(session, "sqlite", 1280) == {}  # BLOBs take any size
    del session.sizes["snapshot_embeddings"]  # a resize that stopped between DROP and CREATE
    assert dimensions.mismatched(session, "singlestore", 580) == {"snapshot_embeddings": None}


def test_resize_remakes_every_embedding_table_with_the_new_size() -> None:
    session = FakeSession(580)
    dimensions.resize(session, 1280)
    assert [name for name, _ in session.executed] == [
        f"similarity_resize_{step}_{table}"
        for table in dimensions.TABLES
        for step in ("drop", "create")
    ]
    assert dimensions.mismatched(session, "singlestore", 1280) == {}
    with pytest.raises(dimensions.DimensionMismatch):
        dimensions.resize(session, 0)


@pytest.mark.parametrize("crash_after", range(1, 6))
def test_a_resize_killed_anywhere_finishes_when_run_again(crash_after: int) -> None:
    session = FakeSession(580, crash_after=crash_after)
    with pytest.raises(KeyboardInterrupt):
        dimensions.resize(session, 1280)
    assert dimensions.mismatched(session, "singlestore", 1280)  # half done
    session.crash_after = None
    dimensions.resize(session, 1280)
    assert dimensions.mismatched(session, "singlestore", 1280) == {}
    assert session.sizes == dict.fromkeys(dimensions.TABLES, 1280)
    assert len(session.executed) == 6  # no table was made twice, none dropped after its remake
    dimensions.resize(session, 1280)  # and a third run has nothing to do
    assert len(session.executed) == 6


def test_reembed_to_another_size_needs_prune_then_resizes(
    demo_settings: Settings, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_tiny_model(tmp_path)
    settings = msgspec.structs.replace(demo_settings, embedder="onnx:tiny", model_dir=str(tmp_path))
    session, mismatched = FakeSession(580), dimensions.mismatched
    # the SQLite database stands in for the data; the column types are SingleStore's
    monkeypatch.setattr(
        dimensions, "mismatched", lambda s, dialect, size: mismatched(session, "singlestore", size)
    )
    resized: list[int] = []
    monkeypatch.setattr(dimensions, "resize", lambda s, size: resized.append(size))

    async def scenario(services: Services) -> None:
        with pytest.raises(dimensions.DimensionMismatch, match="--prune"):
            await reembed(services, out=io.StringIO())
        assert resized == []
        out = io.StringIO()
        counts = await reembed(services, prune=True, out=out)
        assert resized == [3] and counts["snapshot_embedded"] > 0
        assert "made again for VECTOR(3)" in out.getvalue()

    run(settings, scenario)


@pytest.mark.mariadb
def test_the_column_query_runs_on_the_mysql_stand_in(mariadb_url: str) -> None:
    engine = create_engine(mariadb_url, SQL_DIR, pool_size=1)
    try:
        migrate(engine, SQL_DIR)
        rows = engine.read(lambda s: s.fetch_all("similarity_vector_columns"))
        assert {row["table_name"] for row in rows} == set(dimensions.TABLES)
        # the stand-in stores BLOBs: any size fits, nothing to remake
        assert engine.read(lambda s: dimensions.mismatched(s, "singlestore", 1280)) == {}
    finally:
        engine.close()


@pytest.mark.mariadb
def test_the_resize_ddl_runs_in_autocommit_on_the_mysql_stand_in(mariadb_url: str) -> None:
    """The statements as SingleStore gets them, less what MariaDB lacks (as for migrations),
    outside any transaction; a table a crash left missing is made again."""
    engine = create_engine(mariadb_url, SQL_DIR, pool_size=1)
    queries = Queries(SQL_DIR, "singlestore")
    try:
        migrate(engine, SQL_DIR)
        assert "VECTOR(%(dimension)s, F32)" in queries.sql(
            "similarity_resize_create_snapshot_embeddings"
        )
        engine.autocommit(lambda s: s.execute("similarity_resize_drop_snapshot_embeddings"))
        found = engine.read(lambda s: dimensions.mismatched(s, "singlestore", 1280))
        assert found == {"snapshot_embeddings": None}
        engine.autocommit(lambda s: dimensions.resize(s, 1280))
        rows = engine.read(lambda s: s.fetch_all("similarity_vector_columns"))
        assert {row["table_name"] for row in rows} == set(dimensions.TABLES)
        assert engine.read(lambda s: dimensions.mismatched(s, "singlestore", 1280)) == {}
    finally:
        engine.close()

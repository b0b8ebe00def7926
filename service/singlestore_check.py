"""`python -m service check-singlestore`: a one-command checklist for a real cluster.

Given DATABASE_URL for a SingleStore cluster it creates a scratch database (SCRATCH), applies
the migrations, runs every named query once with representative parameters, checks that a
nearest-neighbour search returns k rows (exactly and through the vector index), that 4-byte
text round-trips, that the session lock wait timeout is set and ends in a retryable error,
then prints a pass/fail table with the server version and drops the scratch database.

On another MySQL-protocol server (the tests' MariaDB) the SingleStore-only parts (vector
functions and indexes) are reported as skipped, each by name.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TextIO
from urllib.parse import urlsplit, urlunsplit

import numpy as np

from service.clock import utcnow
from service.config import SQL_DIR, Settings
from service.db import (
    DatabaseError,
    Engine,
    IntegrityError,
    LockConflict,
    Queries,
    Session,
    create_engine,
    migrate,
)
from service.similarity.vectors import pack

SCRATCH = "retail_pulse_check"  # a fixed name: no identifier is ever formatted into SQL
MODEL = "check:1"
OTHER_MODEL = "check:0"
DIMENSION = 580  # VECTOR(580, F32) in sql/singlestore/0005_embeddings.sql
NEIGHBOURS = 10
EMOJI_NAME = "Check 🍫 𝄞"
# Columns migration 0006 declares utf8mb4.
UTF8MB4_COLUMNS = {
    ("stores", "store_name"), ("stores", "area_code"), ("job_visits", "store_id"),
    ("job_images", "url"), ("image_results", "store_id"), ("image_results", "url"),
    ("image_results", "error"), ("products", "name"), ("snapshots", "source"),
}  # fmt: skip
VECTOR_INDEXES = {
    "product_embeddings": "product_embeddings_ann",
    "snapshot_embeddings": "snapshot_embeddings_ann",
    "job_image_embeddings": "job_image_embeddings_ann",
}
_VECTOR_SQL = re.compile(
    r"\b(?:DOT_PRODUCT|EUCLIDEAN_DISTANCE|JSON_ARRAY_(?:UN)?PACK|VECTOR_\w+)\s*\(|SEARCH_OPTIONS",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    result: str  # "pass", "fail" or "skip"
    detail: str = ""


def scratch_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{SCRATCH}"))


def _unit_vectors(count: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).normal(size=(count, DIMENSION)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


class _Fixture:
    """Rows the queries can find: a store, a product, snapshots embedded with two models, a QA
    session. Ids come from the database (AUTO_INCREMENT). The other model's vectors equal
    this model's, so an index search that filtered by model after taking its k candidates
    would come back short."""

    def __init__(self) -> None:
        self.now = utcnow()
        self.vectors = _unit_vectors(3 * NEIGHBOURS, seed=1)
        self.product_id = 0
        self.snapshot_ids: list[int] = []
        self.session_id = 0

    def seed(self, session: Session) -> None:
        now = self.now
        session.execute("stores_upsert", {"store_id": "RP00001", "store_name": "Check store",
                                          "area_code": "7100015", "updated_at": now})  # fmt: skip
        image = {"image_key": "check", "image_width": 1, "image_height": 1, "image_format": "PNG"}
        self.product_id = (
            session.execute(
                "catalog_insert_product", {"upc": "00000000", "name": "Check", **image, "now": now}
            ).lastrowid
            or 0
        )
        for n, vector in enumerate(self.vectors):
            snapshot_id = session.execute(
                "catalog_insert_snapshot",
                {"product_id": self.product_id, **image, "content_hash": f"{n:064x}",
                 "source": None, "rand_key": n / len(self.vectors), "now": now},
            ).lastrowid or 0  # fmt: skip
            self.snapshot_ids.append(snapshot_id)
            for model in (MODEL, OTHER_MODEL):
                session.execute(
                    "similarity_insert_snapshot_embedding",
                    {"id": snapshot_id, "model": model, "embedding": pack(vector), "now": now},
                )
        session.execute(
            "similarity_insert_product_embedding",
            {"id": self.product_id, "model": MODEL, "embedding": pack(self.vectors[0]),
             "now": now},
        )  # fmt: skip
        session.execute("qa_ensure_user", {"username": "check", "now": now})
        self.session_id = (
            session.execute("qa_insert_session", {"username": "check", "now": now}).lastrowid or 0
        )

    def value(self, param: str) -> Any:
        """A representative value for a query parameter, by its name."""
        now = self.now
        known: dict[str, Any] = {
            "model": MODEL, "vector": pack(self.vectors[0]), "embedding": pack(self.vectors[1]),
            "exclude_id": self.snapshot_ids[0], "k": NEIGHBOURS, "fetch": NEIGHBOURS * 10,
            "search_options": '{"k": 100, "ef": 100}', "batch": 1000, "limit": 10,
            "product_id": self.product_id, "snapshot_id": self.snapshot_ids[0],
            "id": self.snapshot_ids[0], "session_id": self.session_id, "username": "check",
            "upc": "00000000", "name": "Check", "store_id": "RP00001", "store_name": "Check store",
            "area": "7100015", "area_code": "7100015", "status": "pending", "owner": "check",
            "start": 0.0, "end": date(2999, 1, 1), "ids": "[]", "url": "https://example.com/a.png",
            "content_hash": "0" * 64, "image_key": "check", "image_format": "PNG",
            "is_match": 1, "majority": 2, "population": len(self.vectors),
            "stale_before": now - timedelta(days=1), "cutoff": now - timedelta(days=1),
            "until": now + timedelta(minutes=1),
        }  # fmt: skip
        if param in known:
            return known[param]
        if param in {"now", "epoch"} or param.endswith(("_at", "_time", "_expires", "_before")):
            return now
        if param.endswith(("_share", "_ms", "suspicion", "rand_key")):
            return 0.5
        if param in {"error", "source", "blob_key", "content_type", "worker", "lease_owner"}:
            return "check"
        return 1  # ids, counts, sizes, positions, flags


def _order(name: str) -> tuple[int, str]:
    """Writes that add rows first, then reads and updates, deletes last."""
    if any(word in name for word in ("insert", "upsert", "load", "ensure")):
        return (0, name)
    return (2, name) if "delete" in name or "prune" in name else (1, name)


def _run_query(engine: Engine, queries: Queries, name: str, fixture: _Fixture) -> Check:
    params = {param: fixture.value(param) for param in queries[name].params}
    try:
        engine.write(lambda session: session.fetch_all(name, params))
    except IntegrityError as exc:  # it ran; the scratch data refused it
        return Check(f"query {name}", "pass", f"ran; a constraint refused the row ({exc})")
    except DatabaseError as exc:
        return Check(f"query {name}", "fail", str(exc))
    return Check(f"query {name}", "pass")


def _nearest(engine: Engine, fixture: _Fixture, query: str, is_singlestore: bool) -> Check:
    name = f"{query} returns k={NEIGHBOURS} rows"
    if not is_singlestore:
        return Check(name, "skip", "SingleStore only: vector functions (and index)")
    params = {param: fixture.value(param) for param in ("model", "vector", "exclude_id", "k",
                                                        "fetch", "search_options")}  # fmt: skip
    rows = engine.read(lambda session: session.fetch_all(query, params))
    ids = [row["snapshot_id"] for row in rows]
    if len(rows) != NEIGHBOURS or fixture.snapshot_ids[0] in ids:
        return Check(name, "fail", f"{len(rows)} rows: {ids}")
    return Check(name, "pass")


def _charset(engine: Engine) -> Iterator[Check]:
    server = engine.read(lambda s: s.raw("SELECT @@character_set_server AS c"))[0]["c"]
    yield Check(
        "character_set_server is utf8mb4",
        "pass" if server == "utf8mb4" else "fail",
        ""
        if server == "utf8mb4"
        else f"{server}: SET GLOBAL character_set_server = 'utf8mb4' "
        "(docker/singlestore-init.sql) before tables are created",
    )
    rows = engine.read(lambda s: s.raw(
        "SELECT TABLE_NAME AS t, COLUMN_NAME AS c, CHARACTER_SET_NAME AS cs "
        "FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE()"
    ))  # fmt: skip
    wrong = sorted(f"{r['t']}.{r['c']}={r['cs']}" for r in rows
                   if (r["t"], r["c"]) in UTF8MB4_COLUMNS and r["cs"] != "utf8mb4")  # fmt: skip
    yield Check("text columns are utf8mb4", "fail" if wrong else "pass", ", ".join(wrong))


def _emoji_round_trip(engine: Engine, fixture: _Fixture) -> Check:
    image = {"image_key": "e", "image_width": 1, "image_height": 1, "image_format": "PNG"}

    product = {"upc": "99999999", "name": EMOJI_NAME, **image, "now": fixture.now}
    try:
        engine.write(lambda session: session.execute("catalog_insert_product", product))
        row = engine.read(lambda s: s.fetch_one("similarity_product_by_upc", {"upc": "99999999"}))
    except DatabaseError as exc:
        return Check("4-byte text round-trips", "fail", str(exc))
    got = row["name"] if row else None
    return Check("4-byte text round-trips", "pass" if got == EMOJI_NAME else "fail",
                 "" if got == EMOJI_NAME else f"read back {got!r}")  # fmt: skip


def _lock_wait(url: str, sql_dir: Any, product_id: int) -> Check:
    """A write that waits on a held row lock ends within the session timeout as LockConflict."""
    name = "a lock wait ends in errno 1205 within lock_wait_timeout (1 s here)"
    engine = create_engine(url, sql_dir, pool_size=2, lock_wait_timeout=1)
    holding, release = threading.Event(), threading.Event()
    params = {"product_id": product_id, "embedding": pack(np.zeros(DIMENSION, np.float32)),
              "id": product_id, "model": MODEL, "now": utcnow()}  # fmt: skip

    def hold(session: Session) -> None:
        session.execute("similarity_update_product_embedding", params)
        holding.set()
        release.wait(30)

    holder = threading.Thread(target=lambda: engine.write(hold), daemon=True)
    try:
        holder.start()
        if not holding.wait(10):
            return Check(name, "fail", "could not take the first lock")
        started = time.monotonic()
        try:
            engine.write(lambda s: s.execute("similarity_update_product_embedding", params))
        except LockConflict as exc:
            waited = time.monotonic() - started
            return Check(name, "pass" if waited < 15 else "fail", f"after {waited:.1f} s: {exc}")
        except DatabaseError as exc:
            return Check(name, "fail", f"another error: {exc}")
        return Check(name, "fail", "the second write did not wait")
    finally:
        release.set()
        holder.join(30)
        engine.close()


def _session_timeout(engine: Engine, is_singlestore: bool, expected: int) -> Check:
    sql = (
        "SELECT @@SESSION.lock_wait_timeout AS t"
        if is_singlestore
        else "SELECT @@SESSION.innodb_lock_wait_timeout AS t"
    )
    value = int(engine.read(lambda s: s.raw(sql))[0]["t"])
    return Check(f"session lock wait timeout is {expected} s", "pass" if value == expected
                 else "fail", "" if value == expected else f"{value} s")  # fmt: skip


def _vector_indexes(engine: Engine, is_singlestore: bool) -> Iterator[Check]:
    for table, index in VECTOR_INDEXES.items():
        name = f"vector index {index}"
        if not is_singlestore:
            yield Check(name, "skip", "SingleStore only")
            continue
        rows = engine.read(lambda s, t=table: s.raw(
            "SELECT INDEX_NAME AS i, INDEX_TYPE AS k FROM information_schema.STATISTICS "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %(t)s", {"t": t}
        ))  # fmt: skip
        found = {row["i"]: row["k"] for row in rows}
        yield Check(name, "pass" if index in found else "fail",
                    str(found.get(index, f"not among {sorted(found)}")))  # fmt: skip


def _server_version(engine: Engine) -> tuple[str, bool]:
    def ask(session: Session) -> tuple[str, bool]:
        try:
            return f"SingleStore {session.raw('SELECT @@memsql_version AS v')[0]['v']}", True
        except DatabaseError:
            return str(session.raw("SELECT VERSION() AS v")[0]["v"]), False

    return engine.read(ask)


def run_checks(settings: Settings, sql_dir: Any = SQL_DIR) -> tuple[str, list[Check]]:
    """Run every check in the scratch database; returns the server version and the checks."""
    admin = create_engine(settings.database_url, sql_dir, pool_size=1)
    version, is_singlestore = _server_version(admin)
    exists = admin.read(lambda s: s.raw(
        "SELECT SCHEMA_NAME AS n FROM information_schema.SCHEMATA "
        "WHERE SCHEMA_NAME = 'retail_pulse_check'"
    ))  # fmt: skip
    if exists:
        admin.close()
        raise DatabaseError(f"the scratch database {SCRATCH} exists (an interrupted run?); "
                            f"drop it, then run the check again")  # fmt: skip
    admin.read(lambda s: s.raw("CREATE DATABASE retail_pulse_check"))
    engine = create_engine(scratch_url(settings.database_url), sql_dir, pool_size=2,
                           lock_wait_timeout=settings.db_lock_wait_timeout)  # fmt: skip
    checks: list[Check] = []
    try:
        try:
            applied = migrate(engine, sql_dir)
        except DatabaseError as exc:
            return version, [Check("migrations apply", "fail", str(exc))]
        checks.append(Check("migrations apply", "pass", f"{len(applied)} applied"))
        checks += _charset(engine)
        checks.append(_session_timeout(engine, is_singlestore, settings.db_lock_wait_timeout))
        checks += _vector_indexes(engine, is_singlestore)
        fixture = _Fixture()
        engine.write(fixture.seed)
        checks.append(_emoji_round_trip(engine, fixture))
        for query in ("similarity_nearest_snapshots", "similarity_nearest_snapshots_ann"):
            checks.append(_nearest(engine, fixture, query, is_singlestore))
        checks.append(_lock_wait(scratch_url(settings.database_url), sql_dir, fixture.product_id))
        queries = Queries(sql_dir, "singlestore")
        for name in sorted(queries.names(), key=_order):
            if not is_singlestore and _VECTOR_SQL.search(queries[name].sql):
                checks.append(Check(f"query {name}", "skip", "SingleStore only: vector SQL"))
            else:
                checks.append(_run_query(engine, queries, name, fixture))
        return version, checks
    finally:
        engine.close()
        try:
            admin.read(lambda s: s.raw("DROP DATABASE IF EXISTS retail_pulse_check"))
        finally:
            admin.close()


def report(version: str, where: str, checks: list[Check], out: TextIO) -> int:
    """Print the table; 0 when nothing failed."""
    counts = {
        result: sum(c.result == result for c in checks) for result in ("pass", "fail", "skip")
    }
    out.write(f"server: {version} at {where} (scratch database {SCRATCH}, dropped)\n\n")
    width = max(len(c.name) for c in checks)
    for check in checks:
        detail = f"  {check.detail}" if check.detail else ""
        out.write(f"{check.name:<{width}}  {check.result.upper():<4}{detail}\n")
    out.write(f"\n{counts['pass']} passed, {counts['fail']} failed, {counts['skip']} skipped\n")
    return 1 if counts["fail"] else 0


def check_command(settings: Settings, out: TextIO, errors: TextIO) -> int:
    from service.db import describe

    if settings.dialect != "singlestore":
        errors.write("check-singlestore needs DATABASE_URL=singlestoredb://USER:PASSWORD@HOST:"
                     "PORT/DATABASE (a SingleStore cluster)\n")  # fmt: skip
        return 2
    try:
        version, checks = run_checks(settings)
    except DatabaseError as exc:
        errors.write(f"error: {exc}\n")
        return 1
    return report(version, describe(settings.database_url), checks, out)

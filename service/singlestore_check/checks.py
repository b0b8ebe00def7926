"""The individual checks: each returns (or yields) Check rows for the table."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from service.clock import utcnow
from service.db import (
    DatabaseError,
    Engine,
    IntegrityError,
    LockConflict,
    Queries,
    Session,
    create_engine,
)
from service.db.restricted_keywords import RESTRICTED
from service.db.sqltext import is_ddl
from service.similarity.index import dimensions
from service.similarity.index.vectors import pack
from service.singlestore_check.fixture import DIMENSION, MODEL, NEIGHBOURS, Fixture

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
# Queries MariaDB (the test stand-in) cannot run: vector functions and types, index options.
VECTOR_SQL = re.compile(
    r"\b(?:DOT_PRODUCT|EUCLIDEAN_DISTANCE|JSON_ARRAY_(?:UN)?PACK|VECTOR_\w+|VECTOR)\s*\("
    r"|SEARCH_OPTIONS",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    result: str  # "pass", "fail" or "skip"
    detail: str = ""


def order(name: str) -> tuple[int, int, str]:
    """Writes that add rows first, then reads and updates, then deletes; last the embedding
    tables made again for another dimension (`reembed --prune`), each dropped before it is
    created."""
    if name.startswith("similarity_resize_"):
        return (3, 0 if "_drop_" in name else 1, name)
    if any(word in name for word in ("insert", "upsert", "load", "ensure")):
        return (0, 0, name)
    return (2, 0, name) if "delete" in name or "prune" in name else (1, 0, name)


def run_query(engine: Engine, queries: Queries, name: str, fixture: Fixture) -> Check:
    params = {param: fixture.value(param) for param in queries[name].params}
    # DDL (the resize of `reembed --prune`) in autocommit, as the service runs it.
    run = engine.autocommit if is_ddl(queries[name].sql) else engine.write
    try:
        run(lambda session: session.fetch_all(name, params))
    except IntegrityError as exc:  # it ran; the scratch data refused it
        return Check(f"query {name}", "pass", f"ran; a constraint refused the row ({exc})")
    except DatabaseError as exc:
        return Check(f"query {name}", "fail", str(exc))
    return Check(f"query {name}", "pass")


# The nearest-neighbour queries: (kind, id column); exact ones keep off the vector index.
NEAREST = {
    "similarity_nearest_snapshots": ("snapshot", "snapshot_id"),
    "similarity_nearest_snapshots_ann": ("snapshot", "snapshot_id"),
    "similarity_nearest_products": ("product", "product_id"),
    "similarity_nearest_products_ann": ("product", "product_id"),
}
# What EXPLAIN shows when a vector index answers: the internal search over the index.
INDEX_IN_PLAN = re.compile(
    r"INTERNAL_VECTOR_SEARCH|" + "|".join(VECTOR_INDEXES.values()), re.IGNORECASE
)


def _nearest_params(fixture: Fixture, query: str) -> dict[str, Any]:
    kind, _ = NEAREST[query]
    params = {param: fixture.value(param) for param in ("model", "vector", "k", "fetch",
                                                         "search_options")}  # fmt: skip
    excluded = fixture.snapshot_ids[0] if kind == "snapshot" else fixture.product_ids[0]
    return {**params, "exclude_id": excluded}


def nearest(engine: Engine, fixture: Fixture, query: str, is_singlestore: bool) -> Iterator[Check]:
    """Two lines for a nearest-neighbour query: it returns k rows of the model, the excluded
    row not among them (the table holds 3k rows of the model and 3k equal vectors of another
    model); and EXPLAIN says it uses the vector index (the `_ann` ones) or keeps off it (the
    exact ones, `ORDER BY score USE INDEX () DESC`)."""
    wanted = query.endswith("_ann")
    rows_name = f"{query} returns k={NEIGHBOURS} rows"
    plan_name = f"{query} {'uses' if wanted else 'keeps off'} the vector index (EXPLAIN)"
    if not is_singlestore:
        for name in (rows_name, plan_name):
            yield Check(name, "skip", "SingleStore only: vector functions and index")
        return
    params = _nearest_params(fixture, query)
    try:
        rows = engine.read(lambda session: session.fetch_all(query, params))
    except DatabaseError as exc:
        yield Check(rows_name, "fail", str(exc))
    else:
        ids = [row[NEAREST[query][1]] for row in rows]
        good = len(rows) == NEIGHBOURS and params["exclude_id"] not in ids
        yield Check(rows_name, "pass" if good else "fail", "" if good else f"{len(rows)}: {ids}")
    try:
        plan = engine.read(lambda session: session.explain(query, params))
    except DatabaseError as exc:
        yield Check(plan_name, "fail", str(exc))
        return
    lines = [" ".join(str(value) for value in row.values()).strip() for row in plan]
    found = [line for line in lines if INDEX_IN_PLAN.search(line)]
    if found:
        shown = found[0]  # the line with the index search
    else:
        shown = " | ".join(lines)[:300] if wanted else "no vector index search in the plan"
    yield Check(plan_name, "pass" if bool(found) == wanted else "fail", shown)


def charset(engine: Engine) -> Iterator[Check]:
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
        "FROM information_schema.`COLUMNS` WHERE TABLE_SCHEMA = DATABASE()"
    ))  # fmt: skip
    wrong = sorted(f"{r['t']}.{r['c']}={r['cs']}" for r in rows
                   if (r["t"], r["c"]) in UTF8MB4_COLUMNS and r["cs"] != "utf8mb4")  # fmt: skip
    yield Check("text columns are utf8mb4", "fail" if wrong else "pass", ", ".join(wrong))


def restricted_names(engine: Engine) -> Check:
    """The columns named by a restricted keyword (quoted in every statement) exist: the
    server took the quoted DDL. That the queries naming them run is each query's own row."""
    rows = engine.read(lambda s: s.raw(
        "SELECT DISTINCT COLUMN_NAME AS c FROM information_schema.`COLUMNS` "
        "WHERE TABLE_SCHEMA = DATABASE()"
    ))  # fmt: skip
    named = sorted({str(r["c"]) for r in rows if str(r["c"]).upper() in RESTRICTED})
    expected = {"model", "position", "prior", "status"}
    missing = sorted(expected - set(named))
    return Check(
        "restricted keywords as column names, quoted, are taken",
        "fail" if missing else "pass",
        f"missing: {', '.join(missing)}" if missing else ", ".join(named),
    )


def emoji_round_trip(engine: Engine, fixture: Fixture) -> Check:
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


def lock_wait(url: str, sql_dir: Path, product_id: int) -> Check:
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


def session_timeout(engine: Engine, is_singlestore: bool, expected: int) -> Check:
    """The lock wait every connection has: set per session, or (should the server refuse
    that) the global value, which must then be DB_LOCK_WAIT_TIMEOUT too."""
    sql = (
        "SELECT @@SESSION.lock_wait_timeout AS t, @@GLOBAL.lock_wait_timeout AS g"
        if is_singlestore
        else "SELECT @@SESSION.innodb_lock_wait_timeout AS t, "
        "@@GLOBAL.innodb_lock_wait_timeout AS g"
    )
    name = f"session lock wait timeout is {expected} s"
    try:
        row = engine.read(lambda s: s.raw(sql))[0]
    except DatabaseError as exc:
        return Check(name, "fail", str(exc))
    value, global_value = int(row["t"]), int(row["g"])
    per_session = getattr(engine, "lock_wait_per_session", None) is not False
    how = (
        "set per session"
        if per_session
        else "the server refused the session setting; its global value applies"
    )
    if value == expected:
        return Check(name, "pass", f"{how} (global {global_value} s)")
    fix = "" if per_session else f": SET GLOBAL lock_wait_timeout = {expected}"
    return Check(name, "fail", f"{value} s; {how}{fix}")


def resize_resumes(engine: Engine, is_singlestore: bool) -> Check:
    """`reembed --prune`'s resize, DDL in autocommit, finishes when run again after a crash
    that left a table dropped and not made again."""
    name = "reembed resize: DDL in autocommit, finished by a rerun after a crash"
    try:
        engine.autocommit(lambda s: s.execute("similarity_resize_drop_product_embeddings"))
        left = engine.read(lambda s: dimensions.mismatched(s, "singlestore", DIMENSION))
        if left != {"product_embeddings": None}:
            return Check(name, "fail", f"after the crash: {left}")
        engine.autocommit(lambda s: dimensions.resize(s, DIMENSION))
        left = engine.read(lambda s: dimensions.mismatched(s, "singlestore", DIMENSION))
        indexes = [check for check in vector_indexes(engine, is_singlestore)
                   if check.result == "fail"]  # fmt: skip
    except DatabaseError as exc:
        return Check(name, "fail", str(exc))
    if left or indexes:
        return Check(name, "fail", f"after the rerun: {left or indexes[0].name}")
    made = "tables and their vector indexes" if is_singlestore else "tables"
    return Check(name, "pass", f"VECTOR({DIMENSION}) {made} made again")


def vector_indexes(engine: Engine, is_singlestore: bool) -> Iterator[Check]:
    for table, index in VECTOR_INDEXES.items():
        name = f"vector index {index}"
        if not is_singlestore:
            yield Check(name, "skip", "SingleStore only")
            continue
        rows = engine.read(lambda s, t=table: s.raw(
            "SELECT INDEX_NAME AS i, INDEX_TYPE AS k FROM information_schema.`STATISTICS` "
            "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %(t)s", {"t": t}
        ))  # fmt: skip
        found = {row["i"]: row["k"] for row in rows}
        yield Check(name, "pass" if index in found else "fail",
                    str(found.get(index, f"not among {sorted(found)}")))  # fmt: skip


def server_version(engine: Engine) -> tuple[str, bool]:
    def ask(session: Session) -> tuple[str, bool]:
        try:
            return f"SingleStore {session.raw('SELECT @@memsql_version AS v')[0]['v']}", True
        except DatabaseError:
            return str(session.raw("SELECT VERSION() AS v")[0]["v"]), False

    return engine.read(ask)

"""Run the checks in a scratch database and print the table."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

from service.config import SQL_DIR, Settings
from service.db import DatabaseError, Engine, Queries, create_engine, migrate
from service.singlestore_check import checks
from service.singlestore_check.checks import Check
from service.singlestore_check.fixture import Fixture

SCRATCH = "retail_pulse_check"  # a fixed name: no identifier is ever formatted into SQL


def scratch_url(url: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{SCRATCH}"))


def run_checks(settings: Settings, sql_dir: Path = SQL_DIR) -> tuple[str, list[Check]]:
    """Run every check in the scratch database; returns the server version and the checks."""
    admin = create_engine(settings.database_url, sql_dir, pool_size=1)
    try:
        version, is_singlestore = checks.server_version(admin)
        if admin.read(lambda s: s.raw(
            "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA "
            "WHERE SCHEMA_NAME = 'retail_pulse_check'"
        )):  # fmt: skip
            raise DatabaseError(f"the scratch database {SCRATCH} exists (an interrupted run?); "
                                "drop it, then run the check again")  # fmt: skip
        admin.autocommit(lambda s: s.raw("CREATE DATABASE retail_pulse_check"))
        try:
            return version, _check_scratch(settings, sql_dir, is_singlestore)
        finally:
            admin.autocommit(lambda s: s.raw("DROP DATABASE IF EXISTS retail_pulse_check"))
    finally:
        admin.close()


def _check_scratch(settings: Settings, sql_dir: Path, is_singlestore: bool) -> list[Check]:
    url = scratch_url(settings.database_url)
    engine = create_engine(url, sql_dir, pool_size=2,
                           lock_wait_timeout=settings.db_lock_wait_timeout)  # fmt: skip
    try:
        try:
            applied = migrate(engine, sql_dir)
        except DatabaseError as exc:
            return [Check("migrations apply", "fail", str(exc))]
        fixture = Fixture()
        engine.write(fixture.seed)
        return [
            Check("migrations apply", "pass", f"{len(applied)} applied"),
            checks.restricted_names(engine),
            *checks.charset(engine),
            checks.session_timeout(engine, is_singlestore, settings.db_lock_wait_timeout),
            *checks.vector_indexes(engine, is_singlestore),
            checks.emoji_round_trip(engine, fixture),
            *(check for query in checks.NEAREST
              for check in checks.nearest(engine, fixture, query, is_singlestore)),
            checks.lock_wait(url, sql_dir, fixture.product_id),
            # these two remake embedding tables: after every check that reads embeddings
            checks.resize_resumes(engine, is_singlestore),
            *_every_query(engine, sql_dir, fixture, is_singlestore),
        ]  # fmt: skip
    finally:
        engine.close()


def _every_query(
    engine: Engine, sql_dir: Path, fixture: Fixture, is_singlestore: bool
) -> Iterator[Check]:
    queries = Queries(sql_dir, "singlestore")
    for name in sorted(queries.names(), key=checks.order):
        if not is_singlestore and checks.VECTOR_SQL.search(queries[name].sql):
            yield Check(f"query {name}", "skip", "SingleStore only: vector SQL")
        else:
            yield checks.run_query(engine, queries, name, fixture)


def report(version: str, where: str, results: list[Check], out: TextIO) -> int:
    """Print the table; 0 when nothing failed."""
    counts = {r: sum(c.result == r for c in results) for r in ("pass", "fail", "skip")}
    out.write(f"server: {version} at {where} (scratch database {SCRATCH}, dropped)\n\n")
    width = max(len(c.name) for c in results)
    for check in results:
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
        version, results = run_checks(settings)
    except DatabaseError as exc:
        errors.write(f"error: {exc}\n")
        return 1
    return report(version, describe(settings.database_url), results, out)

"""Apply `sql/<dialect>/NNNN_name.sql` in order, each once, recorded with its checksum."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import structlog

from service.clock import utcnow

from . import mysql_compat
from .engine import Engine
from .errors import DatabaseError, DatabaseUnavailable, MigrationError
from .session import Session
from .sqltext import split_statements, unquote_identifiers

log = structlog.get_logger(__name__)

_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_CREATE_TABLE = {
    "sqlite": """CREATE TABLE IF NOT EXISTS schema_migrations (
        `version` INTEGER PRIMARY KEY, name TEXT NOT NULL, `checksum` TEXT NOT NULL,
        applied_at DATETIME NOT NULL)""",
    "singlestore": """CREATE TABLE IF NOT EXISTS schema_migrations (
        `version` INT NOT NULL PRIMARY KEY, name VARCHAR(200) NOT NULL,
        `checksum` CHAR(64) NOT NULL, applied_at DATETIME(6) NOT NULL)""",
}


# Files changed after they shipped, each with the checksum its earlier text was recorded
# with: a database that applied that text counts the file as applied. Only for a change that
# a fresh database needs and one that ran the earlier text does not, said here.
REVISED: dict[tuple[str, int], frozenset[str]] = {
    # utf8mb4 for the columnstore image_results: declared where 0002 creates it, no longer
    # by ALTER TABLE ... MODIFY in 0006 (not confirmed for columnstore tables by the docs).
    # A database that ran 0006 before has it; one it stopped at has not (README).
    ("singlestore", 2): frozenset(
        {"fa273774357856e8adb0daf1b2f2b2a7d802bb52ace61cbad7d276462a0e8278"}
    ),
    ("singlestore", 6): frozenset(
        {"cae801fd67408ab58f437c804753072c76e84a79174a1e551fe43d860306ad36"}
    ),
}


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    path: Path

    @property
    def checksum(self) -> str:
        """sha256 of the file with the backticks around names in its code taken out: quoting
        an identifier (a restricted keyword, say) changes no schema, so a file that ran before
        its names were quoted keeps its checksum. Any other edit changes it."""
        text = self.path.read_bytes().decode("utf-8")
        return hashlib.sha256(unquote_identifiers(text).encode("utf-8")).hexdigest()


def discover(sql_dir: Path, dialect: str) -> list[Migration]:
    migrations = []
    for path in sorted((sql_dir / dialect).glob("*.sql")):
        match = _FILE.match(path.name)
        if not match:
            raise MigrationError(f"{path}: migration files are named NNNN_name.sql")
        migrations.append(Migration(int(match.group(1)), match.group(2), path))
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations in {sql_dir / dialect} share a version number")
    return migrations


def _statements(engine: Engine, migration: Migration) -> list[str]:
    statements = split_statements(migration.path.read_text())
    if engine.dialect == "singlestore" and getattr(engine, "is_singlestore", True) is False:
        translated = (mysql_compat.translate_ddl(s) for s in statements)
        statements = [s for s in translated if s]
    return statements


_RECORD = {
    "sqlite": "INSERT INTO schema_migrations (`version`, name, `checksum`, applied_at) "
    "VALUES (:version, :name, :checksum, :applied_at)",
    "singlestore": "INSERT INTO schema_migrations (`version`, name, `checksum`, applied_at) "
    "VALUES (%(version)s, %(name)s, %(checksum)s, %(applied_at)s)",
}


def _apply(engine: Engine, migration: Migration) -> None:
    statements = _statements(engine, migration)
    row = {
        "version": migration.version,
        "name": migration.name,
        "checksum": migration.checksum,
        "applied_at": utcnow(),
    }

    def record(session: Session) -> None:
        session.raw(_RECORD[engine.dialect], row)

    if engine.dialect == "sqlite":
        # SQLite's DDL is transactional: the file and its record commit together, or neither.
        def apply_and_record(session: Session) -> None:
            for statement in statements:
                session.raw(statement)
            record(session)

        engine.write(apply_and_record)
    else:
        # MySQL-family DDL commits implicitly, so each statement runs on its own; a file that
        # fails halfway stays unrecorded and is reported (fix it by hand, then re-run).
        for statement in statements:
            _run_ddl(engine, statement)
        engine.write(record)


def _run_ddl(engine: Engine, statement: str) -> None:
    """One statement in autocommit mode on SingleStore (no explicit transaction around DDL)."""
    engine.autocommit(lambda session: session.raw(statement))


def migrate(engine: Engine, sql_dir: Path) -> list[Migration]:
    """Apply pending migrations; return those applied. Raises if an applied file changed."""
    _run_ddl(engine, _CREATE_TABLE[engine.dialect])
    applied = {
        row["version"]: row
        for row in engine.read(
            lambda s: s.raw("SELECT `version`, name, `checksum` FROM schema_migrations")
        )
    }
    done = []
    for migration in discover(sql_dir, engine.dialect):
        recorded = applied.get(migration.version)
        if recorded is not None:
            earlier = REVISED.get((engine.dialect, migration.version), frozenset())
            if recorded["checksum"] not in {migration.checksum, *earlier}:
                raise MigrationError(
                    f"{migration.path.name} was edited after it was applied; "
                    "add a new migration instead"
                )
            continue
        try:
            _apply(engine, migration)
        except DatabaseUnavailable:
            raise
        except DatabaseError as exc:
            raise MigrationError(f"{migration.path.name} failed: {exc}") from exc
        log.info("migration applied", version=migration.version, name=migration.name)
        done.append(migration)
    return done

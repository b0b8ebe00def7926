"""Command line: `python -m service COMMAND` (see `--help`)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable

import structlog

from service.config import SQL_DIR, ConfigError, Settings, load_settings
from service.logs import configure_logging

log = structlog.get_logger("service.cli")


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    if settings.web_concurrency > 1:
        from service.supervisor import supervise

        return supervise(settings, settings.web_concurrency)
    from service.serving import serve_app

    serve_app(settings)
    return 0


def cmd_migrate(settings: Settings, args: argparse.Namespace) -> int:
    from service.db import migrate_database

    applied = migrate_database(
        settings.database_url, SQL_DIR, lock_wait_timeout=settings.db_lock_wait_timeout
    )
    print(f"{len(applied)} migration(s) applied" if applied else "database is up to date")
    return 0


def cmd_seed(settings: Settings, args: argparse.Namespace) -> int:
    from service.seed import seed

    asyncio.run(seed(settings, force=args.force))
    return 0


def cmd_sql(settings: Settings, args: argparse.Namespace) -> int:
    import io

    from service.db import create_engine
    from service.sqlshell import shell

    engine = create_engine(settings.database_url, SQL_DIR)
    try:
        stdin = io.StringIO(args.execute) if args.execute else sys.stdin
        return shell(engine, stdin)
    finally:
        engine.close()


def cmd_load_stores(settings: Settings, args: argparse.Namespace) -> int:
    from pathlib import Path

    from service.jobs.stores import load_stores_command

    return load_stores_command(settings, Path(args.file))


def cmd_import_catalog(settings: Settings, args: argparse.Namespace) -> int:
    """Import the pictures, then embed, fit and score what was imported, in batches (the
    command returns with a catalog the similarity API answers for at once)."""
    from pathlib import Path

    from service.catalog.importer import run_import
    from service.similarity.background.reembed import reembed_command

    status = asyncio.run(run_import(settings, Path(args.directory)))
    if status == 2:
        return status
    return max(status, reembed_command(settings, batch=64, prune=False))


def cmd_reembed(settings: Settings, args: argparse.Namespace) -> int:
    from service.similarity.background.reembed import reembed_command

    return reembed_command(settings, batch=args.batch, prune=args.prune)


def cmd_check_singlestore(settings: Settings, args: argparse.Namespace) -> int:
    from service.singlestore_check import check_command

    return check_command(settings, sys.stdout, sys.stderr)


Command = Callable[[Settings, argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m service",
        description="Retail Pulse: store-visit image jobs, QA data cleaning, image similarity. "
        "Configuration comes from environment variables (see README).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, fn: Command, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(fn=fn)
        return sub

    add("serve", cmd_serve, "serve the HTTP API on HOST:PORT")
    add("migrate", cmd_migrate, "apply pending schema migrations from sql/")
    seed = add("seed", cmd_seed, "load demo data when the database is empty")
    seed.add_argument("--force", action="store_true", help="seed even if data exists")
    load_stores = add("load-stores", cmd_load_stores, "upsert the store master from a CSV file")
    load_stores.add_argument("file", metavar="FILE", help="the store master CSV file")
    import_catalog = add(
        "import-catalog", cmd_import_catalog,
        "import products/{upc}.jpg and snapshots/{upc}/*.jpg from a folder (idempotent)",
    )  # fmt: skip
    import_catalog.add_argument("directory", metavar="DIR", help="the folder to import")
    reembed = add(
        "reembed", cmd_reembed,
        "embed every stored image with EMBEDDER's model and score suspects (resumable)",
    )  # fmt: skip
    reembed.add_argument("--batch", type=int, default=64, help="images per transaction")
    reembed.add_argument("--prune", action="store_true", help="then delete other models' rows")
    add(
        "check-singlestore", cmd_check_singlestore,
        "on a scratch database of the configured cluster: migrations, every named query, k "
        "nearest neighbours, utf8mb4, lock waits; a pass/fail table",
    )  # fmt: skip
    sql = add("sql", cmd_sql, "interactive SQL shell on the configured database")
    sql.add_argument("-e", "--execute", metavar="SQL", help="run these statements and exit")
    return parser


def _check_embedder(settings: Settings) -> None:
    """EMBEDDER names an embedder this installation can run (its model built, its runtime
    installed): checked at start like every other variable."""
    from service.similarity.embedding.embedders import EmbedderError, create_embedder

    try:
        create_embedder(settings.embedder, settings.model_dir, load=False)
    except EmbedderError as exc:
        raise ConfigError("EMBEDDER", str(exc)) from exc


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
        _check_embedder(settings)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, settings.log_format)
    from service.db import DatabaseUnavailable, describe
    from service.services import wait_for_database

    try:
        wait_for_database(settings)
    except DatabaseUnavailable as exc:
        waited = (
            "" if settings.dialect == "sqlite" else f" within {settings.db_connect_timeout:g} s"
        )
        print(
            f"error: the database at {describe(settings.database_url)} did not answer{waited}: "
            f"{exc}\nCheck DATABASE_URL and that the database is running "
            "(DB_CONNECT_TIMEOUT sets how long to wait).",
            file=sys.stderr,
        )
        return 1
    return args.fn(settings, args)


if __name__ == "__main__":
    sys.exit(main())

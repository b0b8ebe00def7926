"""The command line: help, config errors, migrate, the SQL shell."""

import io
import os
import subprocess
import sys
from pathlib import Path

from service.__main__ import build_parser
from service.config import SQL_DIR
from service.db import create_engine, migrate
from service.sqlshell import format_table, shell, statements_from

ROOT = Path(__file__).resolve().parents[1]


def run_cli(
    *args: str, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> subprocess.CompletedProcess[str]:
    full_env = {
        k: v for k, v in os.environ.items() if k.isupper() and k in {"PATH", "HOME", "LANG"}
    }
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "service", *args],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd,
        timeout=60,
    )


def test_help_lists_the_commands() -> None:
    text = build_parser().format_help()
    for command in ("serve", "migrate", "seed", "sql"):
        assert command in text


def test_bad_config_exits_non_zero_naming_the_variable(tmp_path: Path) -> None:
    result = run_cli("migrate", env={"PORT": "not-a-port"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "PORT" in result.stderr
    assert "Traceback" not in result.stderr


def test_migrate_then_migrate_again_is_a_no_op(tmp_path: Path) -> None:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}", "PYTHONPATH": str(ROOT)}
    first = run_cli("migrate", env=env, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    second = run_cli("migrate", env=env, cwd=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "up to date" in second.stdout


def test_sql_shell_runs_statements_with_vector_functions(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'shell.db'}", SQL_DIR)
    migrate(engine, SQL_DIR)
    out = io.StringIO()
    script = io.StringIO(
        "SELECT DOT_PRODUCT(JSON_ARRAY_PACK('[1,2,3]'),\n"
        "  JSON_ARRAY_PACK('[4,5,6]')) AS dot;\n"
        "SELECT nonsense FROM nowhere;\n"
    )
    code = shell(engine, script, out)
    engine.close()
    assert "| 32  |" in out.getvalue()
    assert "error:" in out.getvalue()
    assert code == 1


def test_statements_are_split_on_semicolons_outside_strings() -> None:
    lines = ["SELECT 'a;b'", "AS x;", "SELECT 2;"]
    assert list(statements_from(lines)) == ["SELECT 'a;b'\nAS x", "SELECT 2"]


def test_table_format() -> None:
    text = format_table([{"id": 1, "v": None, "b": b"1234"}])
    assert "NULL" in text and "<4 bytes>" in text and "(1 row)" in text

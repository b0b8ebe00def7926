"""`python -m service sql`: a small SQL prompt on the configured database.

SQLite connections here have SingleStore's vector functions registered, so analysts' queries
in `sql/analyst/` run unchanged on either engine. Statements end with `;`.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TextIO

from service.db import DatabaseError, Engine
from service.db.sqltext import is_ddl, split_statements

MAX_CELL = 60


def _cell(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    if isinstance(value, float):
        return f"{value:.6g}"
    text = str(value).replace("\n", " ")
    return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"


def format_table(rows: list[dict[str, Any]]) -> str:
    if not rows:
        return "(0 rows)"
    names = list(rows[0])
    cells = [[_cell(row[name]) for name in names] for row in rows]
    widths = [max(len(name), *(len(r[i]) for r in cells)) for i, name in enumerate(names)]
    line = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def render(values: list[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)) + " |"

    body = [line, render(names), line, *(render(r) for r in cells), line]
    return "\n".join(body) + f"\n({len(rows)} row{'s' if len(rows) != 1 else ''})"


def statements_from(lines: Iterable[str]) -> Iterator[str]:
    """Collect lines until a statement ends with `;`, then yield it."""
    buffer: list[str] = []
    for line in lines:
        buffer.append(line)
        text = "\n".join(buffer)
        if text.rstrip().endswith(";"):
            yield from split_statements(text)
            buffer = []
    if "".join(buffer).strip():
        yield from split_statements("\n".join(buffer))


def run_statement(engine: Engine, statement: str) -> str:
    is_read = statement.lstrip().split(None, 1)[0].upper() in {
        "SELECT",
        "WITH",
        "SHOW",
        "EXPLAIN",
        "DESCRIBE",
        "PRAGMA",
    }
    # DDL in autocommit: SingleStore commits it on its own (or refuses it) in a transaction.
    runner = engine.read if is_read else engine.autocommit if is_ddl(statement) else engine.write
    rows = runner(lambda session: session.raw(statement))
    return format_table(rows) if is_read or rows else "OK"


def _prompt_lines(stdin: TextIO) -> Iterator[str]:
    prompt = "sql> "
    while True:
        try:
            line = input(prompt) if stdin.isatty() else stdin.readline()
        except EOFError:
            return
        if not stdin.isatty() and line == "":
            return
        line = line.rstrip("\n")
        if line.strip() in {"\\q", "exit", "quit"}:
            return
        prompt = "sql> " if line.rstrip().endswith(";") or not line.strip() else "  -> "
        yield line


def shell(engine: Engine, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> int:
    if stdin.isatty():
        with contextlib.suppress(ImportError):
            import readline  # noqa: F401 - line editing and history for the prompt
        print(f"Connected ({engine.dialect}). End statements with ';', quit with \\q.", file=stdout)
    failures = 0
    for statement in statements_from(_prompt_lines(stdin)):
        try:
            print(run_statement(engine, statement), file=stdout)
        except DatabaseError as exc:
            failures += 1
            print(f"error: {exc}", file=stdout)
    return 1 if failures and not stdin.isatty() else 0

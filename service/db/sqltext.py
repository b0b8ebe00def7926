"""Small lexical helpers over SQL text: split scripts into statements, rewrite parameters.

Both walk the text once and skip quoted strings and comments, so a `;` or `:name` inside a
literal is never touched.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

_TOKEN = re.compile(
    r"""
    (?P<quoted>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|`[^`]*`)
  | (?P<comment>--[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<param>(?<![:\w]):[A-Za-z_]\w*)
  | (?P<semicolon>;)
  | (?P<percent>%)
  | (?P<other>[^'"`\-\#/:;%]+|.)
    """,
    re.VERBOSE | re.DOTALL,
)


def _tokens(sql: str) -> Iterator[re.Match[str]]:
    return _TOKEN.finditer(sql)


def split_statements(script: str) -> list[str]:
    """Split a script on top-level semicolons; empty and comment-only statements are dropped."""
    statements: list[str] = []
    current: list[str] = []
    has_code = False
    for match in _tokens(script):
        kind = match.lastgroup
        if kind == "semicolon":
            if has_code:
                statements.append("".join(current).strip())
            current, has_code = [], False
            continue
        current.append(match.group())
        if kind not in ("comment",) and match.group().strip():
            has_code = True
    if has_code:
        statements.append("".join(current).strip())
    return statements


def named_params(sql: str) -> list[str]:
    """The `:name` parameters a query uses, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _tokens(sql):
        if match.lastgroup == "param":
            seen.setdefault(match.group()[1:], None)
    return list(seen)


def to_pyformat(sql: str) -> str:
    """Rewrite `:name` to `%(name)s` and escape literal `%`, for pyformat drivers."""
    out: list[str] = []
    for match in _tokens(sql):
        kind, text = match.lastgroup, match.group()
        if kind == "param":
            out.append(f"%({text[1:]})s")
        elif kind == "percent" or (kind == "quoted" and "%" in text):
            out.append(text.replace("%", "%%"))
        else:
            out.append(text)
    return "".join(out)

"""Small lexical helpers over SQL text: split scripts into statements, rewrite parameters.

Both walk the text once and skip quoted strings and comments, so a `;` or `:name` inside a
literal is never touched.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

_TOKEN = re.compile(
    r"""
    (?P<quoted>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*"|`[^`]*`)
  | (?P<comment>--[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<param>(?<![:\w]):[A-Za-z_]\w*)
  | (?P<semicolon>;)
  | (?P<other>[^'"`\-\#/:;]+|.)
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
    """Rewrite `:name` to `%(name)s` and double every other `%`, for pyformat drivers.

    The driver interpolates every statement it is given parameters for (an empty dict too), so
    a `%` anywhere else (a LIKE pattern, a comment) must reach it as `%%`.
    """
    out: list[str] = []
    for match in _tokens(sql):
        kind, text = match.lastgroup, match.group()
        out.append(f"%({text[1:]})s" if kind == "param" else text.replace("%", "%%"))
    return "".join(out)


def to_numbered(sql: str) -> tuple[str, tuple[str, ...]]:
    """Rewrite `:name` to SQLite's `?N` (N: the name's place in the returned order).

    Binding a tuple by position costs sqlite3 less than looking every name up in a dict,
    which counts when one statement runs for 10,000 rows."""
    names = named_params(sql)
    place = {name: index for index, name in enumerate(names, start=1)}
    out = [
        f"?{place[match.group()[1:]]}" if match.lastgroup == "param" else match.group()
        for match in _tokens(sql)
    ]
    return "".join(out), tuple(names)


def mask_strings(sql: str) -> tuple[str, list[str]]:
    """The text with each '...' or "..." literal replaced by NUL, its index, NUL; and the
    literals. A regex over the masked code cannot match inside a string."""
    literals: list[str] = []
    out: list[str] = []
    for match in _tokens(sql):
        text = match.group()
        if match.lastgroup == "quoted" and text[0] in "'\"":
            out.append(f"\0{len(literals)}\0")
            literals.append(text)
        else:
            out.append(text)
    return "".join(out), literals


def unmask_strings(masked: str, literals: list[str]) -> str:
    """Put back the literals that `mask_strings` took out."""
    return re.sub("\0(\\d+)\0", lambda m: literals[int(m.group(1))], masked)


_PLAIN_NAME = re.compile(r"`(\w+)`")


def unquote_identifiers(sql: str) -> str:
    """The text with each backtick-quoted plain name in its code unquoted (`` `model` `` ->
    `model`); comments and string literals are left as they are, byte for byte. Quoting a
    name changes no schema, so migrations compare their text in this form."""
    out = []
    for match in _tokens(sql):
        text = match.group()
        plain = match.lastgroup == "quoted" and _PLAIN_NAME.fullmatch(text)
        out.append(text[1:-1] if plain else text)
    return "".join(out)


def strip_comments(sql: str) -> str:
    """The text without its comments (string literals untouched)."""
    return "".join(m.group() for m in _tokens(sql) if m.lastgroup != "comment").strip()


@functools.lru_cache(maxsize=1024)
def is_insert(sql: str) -> bool:
    """Whether the statement inserts rows, the only kind whose last row id means anything."""
    return strip_comments(sql).lstrip("( \n\t").upper().startswith(("INSERT", "REPLACE"))


@functools.lru_cache(maxsize=1024)
def is_ddl(sql: str) -> bool:
    """Whether the statement defines or drops schema (which MySQL-family servers commit on
    their own: never inside a transaction of ours)."""
    return (
        strip_comments(sql)
        .lstrip("( \n\t")
        .upper()
        .startswith(("CREATE", "ALTER", "DROP", "TRUNCATE", "RENAME"))
    )

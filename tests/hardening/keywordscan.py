"""Find restricted keywords (service/db/restricted_keywords.py) used as bare identifiers in SQL.

A word is taken to name something, and so must be backtick-quoted when it is restricted, when
it is one of the names the SQL defines, or when its position says it is a name:

- *defined names*, gathered from all the SQL scanned: tables and columns of `CREATE TABLE`
  (the first word of each item in its list), columns added, modified or renamed by
  `ALTER TABLE`, indexes of `CREATE INDEX`, and aliases (the word after `AS`, outside
  `CAST(... AS type)`, and a table alias after a name in `FROM` / `JOIN`);
- *positions*: a word right before or after a `.` (a qualified name: `s.status`).

A defined name followed by `(` is a function call (`DATE(...)`, `VERSION()`), not a use of
the name. Strings, comments, parameters (`:name`, `%(name)s`) and variables (`@@x`, `@x`)
are skipped. The scan knows no grammar beyond this; it errs towards reporting, and a report
is fixed by quoting the word.

SQL in Python is every string constant, docstrings aside, that starts with a statement
keyword in upper case, as this project writes SQL: `SELECT`, `INSERT`, `UPDATE`, `DELETE`,
`CREATE`, `DROP`, `ALTER`, `SET`, `SHOW`, `EXPLAIN`, `WITH`, `REPLACE`, `OPTIMIZE`, `FLUSH`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from service.db.restricted_keywords import RESTRICTED

_TOKEN = re.compile(
    r"""
    (?P<quoted>`[^`]*`)
  | (?P<literal>'(?:[^'\\]|\\.|'')*'|"(?:[^"\\]|\\.|"")*")
  | (?P<comment>--[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<param>(?<![:\w]):[A-Za-z_]\w*|%\(\w+\)s|%s)
  | (?P<variable>@@?[\w.$]+)
  | (?P<word>[A-Za-z_][\w$]*)
  | (?P<number>\d[\w.]*)
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_STATEMENT_START = re.compile(
    r"^\s*(?:SELECT|INSERT|UPDATE|DELETE|CREATE|DROP|ALTER|SET|SHOW|EXPLAIN|WITH|REPLACE"
    r"|OPTIMIZE|FLUSH)\b"
)


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# What may follow a table name in FROM / JOIN other than an alias.
_AFTER_TABLE = _words(
    """ON USING WHERE JOIN LEFT RIGHT INNER OUTER CROSS NATURAL STRAIGHT_JOIN GROUP ORDER
    LIMIT HAVING UNION USE IGNORE FORCE SET AS WINDOW FOR LOCK INTO VALUES SELECT WITH
    PARTITION"""
)
# Words that open a table-level item of CREATE TABLE rather than a column definition.
_TABLE_ITEMS = _words(
    "PRIMARY KEY UNIQUE INDEX SHARD SORT VECTOR FOREIGN CONSTRAINT CHECK FULLTEXT SPATIAL"
)
# Keywords that the rules below would otherwise take for names (`ADD COLUMN`, `) DESC,`).
_NEVER_NAMES = (
    _AFTER_TABLE
    | _TABLE_ITEMS
    | _words("COLUMN IF NOT EXISTS ASC DESC AND OR IS IN THEN ELSE END WHEN LIKE")
    | _words("INSERT UPDATE DELETE REPLACE CREATE DROP ALTER SHOW EXPLAIN")
)
# Keywords a parenthesis may follow without being a call's.
_OPENERS = _words("FROM JOIN IN EXISTS AS ON AND OR NOT WHERE SELECT WHEN THEN ELSE VALUES BY")
_TABLE_KINDS = _words("ROWSTORE COLUMNSTORE REFERENCE TEMPORARY")


@dataclass(frozen=True, slots=True)
class Token:
    kind: str
    text: str
    start: int  # offset in the scanned text

    @property
    def upper(self) -> str:
        return self.text.upper()


@dataclass(frozen=True)
class Finding:
    path: str
    word: str
    context: str

    def __str__(self) -> str:
        return f"{self.path}: bare restricted keyword {self.word!r} in: {self.context}"


def tokens(sql: str) -> list[Token]:
    """The SQL's tokens, comments and spaces left out."""
    return [
        Token(m.lastgroup or "other", m.group(), m.start())
        for m in _TOKEN.finditer(sql)
        if m.lastgroup not in {"space", "comment"}
    ]


def _name(token: Token) -> str | None:
    """The name a word or quoted token stands for, lower case."""
    if token.kind == "word":
        return token.text.lower()
    if token.kind == "quoted":
        return token.text[1:-1].lower()
    return None


def _items(toks: list[Token], open_at: int) -> Iterator[tuple[int, int]]:
    """(start, end) of each top-level comma-separated item in the list opened at `open_at`."""
    depth, start = 0, open_at + 1
    for index in range(open_at, len(toks)):
        text = toks[index].text
        if text == "(":
            depth += 1
        elif text == ")":
            depth -= 1
            if depth == 0:
                yield start, index
                return
        elif text == "," and depth == 1:
            yield start, index
            start = index + 1


def _skip_if_exists(uppers: list[str], index: int) -> int:
    """The index after an `IF [NOT] EXISTS` that starts at `index`, or `index`."""
    if uppers[index : index + 2] == ["IF", "EXISTS"]:
        return index + 2
    if uppers[index : index + 3] == ["IF", "NOT", "EXISTS"]:
        return index + 3
    return index


def _table_columns(toks: list[Token], uppers: list[str]) -> Iterator[str]:
    """The column names of every `CREATE [kind] TABLE [IF NOT EXISTS] name (...)`."""
    for index in range(len(toks)):
        if uppers[index] != "CREATE":
            continue
        at = index + 1
        while at < len(toks) and uppers[at] in _TABLE_KINDS:
            at += 1
        if at >= len(toks) or uppers[at] != "TABLE":
            continue
        at = _skip_if_exists(uppers, at + 1) + 1  # past the table's name
        if at < len(toks) and toks[at].text == "(":
            for start, _ in _items(toks, at):
                found = _name(toks[start]) if start < len(toks) else None
                if found and uppers[start] not in _TABLE_ITEMS:
                    yield found


def defined_names(toks: list[Token]) -> set[str]:
    """Table, column, index and alias names the SQL defines (see the module doc)."""
    uppers = [t.upper if t.kind == "word" else t.text for t in toks]
    names: set[str] = set(_table_columns(toks, uppers))
    calls: list[str] = []  # the function or type (or "") each open parenthesis belongs to
    closed = ""  # what the last closed parenthesis belonged to
    for index, token in enumerate(toks):
        before = uppers[index - 1] if index else ""
        after = uppers[index + 1] if index + 1 < len(toks) else ""
        if token.text == "(":  # `COUNT(`, `VARCHAR(`; not `FROM (`, `IN (`
            called = index and toks[index - 1].kind == "word" and before not in _OPENERS
            calls.append(before if called else "")
        elif token.text == ")" and calls:
            closed = calls.pop()
        name = _name(token)
        if name is None or (token.kind == "word" and uppers[index] in _NEVER_NAMES):
            continue
        if before == "AS" and not (calls and calls[-1] in {"CAST", "CONVERT"}):
            names.add(name)  # an alias
        elif before in {"TABLE", "EXISTS", "COLUMN", "MODIFY", "CHANGE", "ADD"}:
            names.add(name)  # a table, or a column ALTER TABLE adds or changes
        elif before == "INDEX" and after == "ON":
            names.add(name)
        elif index >= 2 and uppers[index - 2] in {"FROM", "JOIN"} and _name(toks[index - 1]):
            names.add(name)  # a table alias: `FROM snapshots s`
        elif before == ")" and not closed:
            names.add(name)  # a derived table's alias: `(SELECT ...) n`
    return names


def bare_uses(toks: list[Token], names: set[str]) -> Iterator[tuple[int, str]]:
    """(index, word) of each bare restricted word that names something."""
    for index, token in enumerate(toks):
        if token.kind != "word" or token.upper not in RESTRICTED:
            continue
        before = toks[index - 1].text if index else ""
        after = toks[index + 1].text if index + 1 < len(toks) else ""
        if before in {"@", "@@"}:
            continue
        qualified = before == "." or after == "."
        if qualified or (token.text.lower() in names and after != "("):
            yield index, token.text


def _context(toks: list[Token], index: int) -> str:
    return " ".join(t.text for t in toks[max(0, index - 6) : index + 5])


def scan(texts: Iterable[tuple[str, str]]) -> list[Finding]:
    """Findings in (path, sql) pairs; names defined anywhere in them count everywhere."""
    parsed = [(path, tokens(sql)) for path, sql in texts]
    names: set[str] = set()
    for _, toks in parsed:
        names |= defined_names(toks)
    return [
        Finding(path, word, _context(toks, index))
        for path, toks in parsed
        for index, word in bare_uses(toks, names)
    ]


def sql_files(root: Path, base: Path) -> Iterator[tuple[str, str]]:
    for path in sorted(root.rglob("*.sql")):
        yield str(path.relative_to(base)), path.read_text(encoding="utf-8")


def python_sql(root: Path, base: Path) -> Iterator[tuple[str, str]]:
    """(path:line, text) of every string constant in `root`'s Python that starts like SQL."""
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        docstrings = {
            id(node.value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        }
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and id(node) not in docstrings
                and _STATEMENT_START.match(node.value)
            ):
                yield f"{path.relative_to(base)}:{node.lineno}", node.value

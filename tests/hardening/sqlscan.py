"""Find SQL built by string formatting: an AST scan of Python source, and a scan of .sql files.

A *formatted* string is an f-string with a `{...}` part, `"..." % x`, `"...".format(...)` or a
string literal `+` something that is not a literal. One is reported when

- its literal text reads like SQL (a statement shape in upper case, as this project writes
  SQL: `SELECT ... FROM`, `INSERT INTO`, `UPDATE t SET`, `DELETE FROM`, DDL, `WHERE col =`), or
- it reaches a call that runs SQL (`execute`, `raw`, `fetch_all`, ...), directly or through a
  local variable assigned from it in the same function.

A formatted *query name* (`f"similarity_insert_{kind}_embedding"`: every literal part is
lower_snake_case) is not SQL: the name is looked up among the loaded queries, and an unknown
one is an error, so it cannot inject anything.

In `.sql` files, driver placeholders (`%s`, `%(name)s`) or `{name}` holes mean someone meant
to format the text; named queries use `:name` parameters only.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path

# Methods that run SQL, on our Session/Database, DB-API cursors and connections.
SINKS = frozenset(
    {
        "execute",
        "executemany",
        "executescript",
        "execute_many",
        "raw",
        "fetch_all",
        "fetch_one",
        "fetch_value",
        "mogrify",
    }
)

_SQL_SHAPES = re.compile(
    r"""
      \bSELECT\b[\s\S]*?\bFROM\b
    | \bINSERT\s+(?:IGNORE\s+)?INTO\b
    | \bREPLACE\s+INTO\b
    | \bUPDATE\s+[`"\w.]+\s+SET\b
    | \bDELETE\s+FROM\b
    | \b(?:CREATE|DROP|ALTER|TRUNCATE)\s+(?:TEMPORARY\s+)?(?:TABLE|INDEX|DATABASE|VIEW|USER)\b
    | \bWHERE\s+[`"\w.]+\s*(?:=|<|>|\bIN\b|\bLIKE\b)
    | \bVALUES\s*\(
    """,
    re.VERBOSE,  # upper case, as all SQL here is written: "select a file from" is prose
)
_SQL_FILE_HOLES = re.compile(r"%\(\w+\)s|%[sd]\b|\{\w*\}")


@dataclass(frozen=True)
class Finding:
    path: str
    line: int
    why: str
    code: str  # the offending expression, as source

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.why}: {self.code}"


def _literal_text(node: ast.AST) -> str:
    """The constant string parts of an expression (what a reader sees as the SQL text)."""
    parts = [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    return " ".join(parts)


_NAME_PART = re.compile(r"^[a-z0-9_]*$")


def _query_name_shaped(node: ast.AST) -> bool:
    """Only lower_snake_case literal parts, at least one of them: a query name being chosen."""
    parts = [
        n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    ]
    return any(parts) and all(_NAME_PART.match(part) for part in parts)


def _is_str_literal(node: ast.AST) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(
        node, ast.JoinedStr
    )


def formatting_kind(node: ast.AST) -> str | None:
    """How `node` formats a string, or None if it does not."""
    if isinstance(node, ast.JoinedStr) and any(
        isinstance(v, ast.FormattedValue) for v in node.values
    ):
        return "f-string"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and _is_str_literal(node.left):
        return "% formatting"
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "format"
        and _is_str_literal(node.func.value)
    ):
        return ".format()"
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        sides = (node.left, node.right)
        if any(_is_str_literal(s) or formatting_kind(s) for s in sides) and not all(
            isinstance(s, ast.Constant) for s in sides
        ):
            return "+ concatenation"
    return None


def _outermost_formatted(tree: ast.AST) -> list[ast.expr]:
    """Formatted expressions not nested in a bigger formatted expression."""
    found: list[ast.expr] = []

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.expr) and formatting_kind(node):
            found.append(node)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _sql_argument(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    for keyword in call.keywords:
        if keyword.arg in {"sql", "query", "operation", "name", "statement"}:
            return keyword.value
    return None


def _scopes(tree: ast.Module) -> list[ast.AST]:
    return [tree] + [
        n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)
    ]


def _own_nodes(scope: ast.AST) -> list[ast.AST]:
    """Nodes of a scope, not descending into nested functions (they are scopes of their own)."""
    nodes: list[ast.AST] = []
    stack = list(ast.iter_child_nodes(scope))
    while stack:
        node = stack.pop()
        nodes.append(node)
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            stack.extend(ast.iter_child_nodes(node))
    return nodes


def scan_source(source: str, path: str = "<source>") -> list[Finding]:
    tree = ast.parse(source, filename=path)
    findings: dict[tuple[int, str], Finding] = {}

    def report(node: ast.AST, why: str, code: ast.AST) -> None:
        line = getattr(node, "lineno", 0)
        findings.setdefault((line, why), Finding(path, line, why, ast.unparse(code)))

    for node in _outermost_formatted(tree):
        if _SQL_SHAPES.search(_literal_text(node)):
            report(node, f"SQL text built with {formatting_kind(node)}", node)

    for scope in _scopes(tree):
        nodes = _own_nodes(scope)
        tainted: dict[str, tuple[str, ast.AST]] = {}  # local name -> how, and from what
        for node in nodes:
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign) and node.value:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                kind = formatting_kind(node.value)
                if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add):
                    kind = kind or "+= concatenation"
                for target in targets:
                    if isinstance(target, ast.Name) and kind:
                        tainted[target.id] = (kind, node.value)
        for node in nodes:
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in SINKS
            ):
                continue
            argument = _sql_argument(node)
            if argument is None:
                continue
            kind = formatting_kind(argument)
            source: ast.AST = argument
            if kind is not None and _query_name_shaped(argument):
                continue
            if kind is None and isinstance(argument, ast.Name) and argument.id in tainted:
                kind, source = tainted[argument.id]
                if _query_name_shaped(source):
                    continue
            if kind is not None:
                report(node, f"{kind} passed to .{node.func.attr}()", source)
    return sorted(findings.values(), key=lambda f: (f.path, f.line))


def scan_python_tree(root: Path, base: Path) -> list[Finding]:
    findings: list[Finding] = []
    for path in sorted(root.rglob("*.py")):
        findings += scan_source(path.read_text(encoding="utf-8"), str(path.relative_to(base)))
    return findings


def scan_sql_text(text: str, path: str = "<sql>") -> list[Finding]:
    findings = []
    for number, line in enumerate(text.splitlines(), start=1):
        code = line.split("--", 1)[0]
        if match := _SQL_FILE_HOLES.search(code):
            findings.append(
                Finding(path, number, f"format placeholder {match.group()!r}", line.strip())
            )
    return findings


def scan_sql_tree(root: Path, base: Path) -> list[Finding]:
    findings: list[Finding] = []
    for path in sorted(root.rglob("*.sql")):
        findings += scan_sql_text(path.read_text(encoding="utf-8"), str(path.relative_to(base)))
    return findings

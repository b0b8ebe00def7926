"""The import map of `service/`: which module imports which (at any depth, inside functions
too), the circles, and the arrows that point back up the layers.

    python -m scripts.import_map            # a summary, then one JSON line

Layers, from the bottom: base (config, db, storage, imaging...) < plumbing (http, services)
< features (jobs, catalog, qa, similarity, lead) < entry points (app, CLI, supervisor). An
import may only point down or sideways; features meet through the extension points that
the lower feature publishes (catalog.hooks, qa.scoring, qa.picking, jobs.extensions).
"""

from __future__ import annotations

import ast
import json
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = {"__main__", "app", "seed", "sqlshell", "singlestore_check", "serving", "supervisor"}
FEATURES = {"jobs", "catalog", "qa", "similarity", "lead"}
PLUMBING = {"http", "services", "children"}


def layer(module: str) -> int:
    top = module.split(".")[1] if "." in module else ""
    if top in ENTRY:
        return 3
    if top in FEATURES:
        return 2
    return 1 if top in PLUMBING else 0


@dataclass(frozen=True)
class ImportMap:
    modules: dict[str, Path]
    edges: dict[str, set[str]]

    def upward(self) -> list[tuple[str, str]]:
        return sorted(
            (a, b) for a, targets in self.edges.items() for b in targets if layer(b) > layer(a)
        )

    def cross_feature(self) -> list[tuple[str, str]]:
        def feature(module: str) -> str:
            return module.split(".")[1]

        return sorted(
            (a, b)
            for a, targets in self.edges.items()
            for b in targets
            if layer(a) == layer(b) == 2 and feature(a) != feature(b)
        )

    def cycles(self) -> list[list[str]]:
        """Strongly connected components of more than one module (Tarjan, iterative)."""
        index: dict[str, int] = {}
        low: dict[str, int] = {}
        stack: list[str] = []
        on_stack: set[str] = set()
        found: list[list[str]] = []
        for start in self.modules:
            if start in index:
                continue
            work = [(start, iter(sorted(self.edges.get(start, ()))))]
            index[start] = low[start] = len(index)
            stack.append(start)
            on_stack.add(start)
            while work:
                node, children = work[-1]
                child = next(children, None)
                if child is not None:
                    if child not in index:
                        index[child] = low[child] = len(index)
                        stack.append(child)
                        on_stack.add(child)
                        work.append((child, iter(sorted(self.edges.get(child, ())))))
                    elif child in on_stack:
                        low[node] = min(low[node], index[child])
                    continue
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
        return found

    def lines(self) -> dict[str, int]:
        return {m: len(p.read_text().splitlines()) for m, p in self.modules.items()}

    def rooms(self) -> set[str]:
        return {
            m if p.name == "__init__.py" else m.rpartition(".")[0] for m, p in self.modules.items()
        }


def read(root: Path = ROOT, package: str = "service") -> ImportMap:
    modules: dict[str, Path] = {}
    for path in sorted((root / package).rglob("*.py")):
        name = ".".join(path.relative_to(root).with_suffix("").parts)
        modules[name.removesuffix(".__init__")] = path

    def resolve(name: str) -> str | None:
        while name and name not in modules:
            name = name.rpartition(".")[0]
        return name or None

    edges: dict[str, set[str]] = defaultdict(set)
    for module, path in modules.items():
        base = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                origin = node.module or ""
                if node.level:
                    parent = base
                    for _ in range(node.level - 1):
                        parent = parent.rpartition(".")[0]
                    origin = f"{parent}.{origin}" if origin else parent
                targets = [
                    f"{origin}.{alias.name}" if f"{origin}.{alias.name}" in modules else origin
                    for alias in node.names
                ]
            for target in targets:
                if target.split(".")[0] != package:
                    continue
                resolved = resolve(target)
                if resolved and resolved != module:
                    edges[module].add(resolved)
    return ImportMap(modules, dict(edges))


def summary(imports: ImportMap) -> dict[str, object]:
    lines = imports.lines()
    longest = sorted(lines.items(), key=lambda item: -item[1])[:5]
    return {
        "modules": len(imports.modules),
        "lines": sum(lines.values()),
        "rooms": len(imports.rooms()),
        "cycles": imports.cycles(),
        "upward": imports.upward(),
        "cross_feature": imports.cross_feature(),
        "longest": longest,
    }


def main() -> int:
    facts = summary(read())
    for key, value in facts.items():
        shown = len(value) if isinstance(value, list) and key != "longest" else value
        print(f"{key:<14} {shown}")
    print(json.dumps(facts))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`make bench`: run every benchmark section, print a table and one JSON line.

Each section is a module `scripts.bench_<name>` with `run() -> list[Metric]`. Sections run in
order; `BENCH=jobs,qa` picks some. Progress goes to stderr, results to stdout.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from typing import TypedDict

SECTIONS = ["jobs", "qa", "similarity"]


class Metric(TypedDict):
    section: str
    name: str
    value: float
    unit: str


def main() -> int:
    wanted = [s for s in os.environ.get("BENCH", ",".join(SECTIONS)).split(",") if s]
    unknown = sorted(set(wanted) - set(SECTIONS))
    if unknown:
        print(f"BENCH: unknown section(s) {', '.join(unknown)}; known: {SECTIONS}", file=sys.stderr)
        return 2
    from service.logs import configure_logging

    configure_logging("warning", "console")  # stdout is for the table and the JSON line
    metrics: list[Metric] = []
    for section in wanted:
        module = importlib.import_module(f"scripts.bench_{section}")
        started = time.perf_counter()
        print(f"[bench] {section}: running", file=sys.stderr, flush=True)
        metrics.extend(module.run())
        print(f"[bench] {section}: {time.perf_counter() - started:.1f}s", file=sys.stderr)
    width = max((len(m["name"]) for m in metrics), default=10)
    print(f"{'section':<12} {'metric':<{width}} {'value':>12}  unit")
    print("-" * (width + 34))
    for m in metrics:
        print(f"{m['section']:<12} {m['name']:<{width}} {m['value']:>12.3f}  {m['unit']}")
    print(json.dumps({f"{m['section']}.{m['name']}": round(m["value"], 4) for m in metrics}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

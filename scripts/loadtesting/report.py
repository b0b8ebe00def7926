"""The report: a table per endpoint (requests, req/s, p50, p99, max, unexpected answers), the
checks, and one JSON line."""

from __future__ import annotations

import json
from typing import Any

from scripts.loadtesting.clients import Record


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def report(record: Record, elapsed: float, checks: list[tuple[str, bool, str]]) -> dict:
    endpoints = sorted(record.latencies)
    print(
        f"{'endpoint':<38} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'unexpected':>10}"
    )
    print("-" * 96)
    summary: dict[str, Any] = {"seconds": round(elapsed, 1)}
    for endpoint in endpoints:
        values = record.latencies[endpoint]
        p50, p99 = _percentile(values, 0.50) * 1000, _percentile(values, 0.99) * 1000
        rate = len(values) / elapsed
        bad = sum(record.unexpected[endpoint].values())
        print(
            f"{endpoint:<38} {len(values):>8} {rate:>8.1f} {p50:>8.1f} {p99:>8.1f} "
            f"{max(values) * 1000:>8.1f} {bad:>10}"
        )
        summary[endpoint] = {
            "requests": len(values),
            "per_s": round(rate, 1),
            "p50_ms": round(p50, 1),
            "p99_ms": round(p99, 1),
            "unexpected": bad,
        }
    images = sum(record.jobs.values())
    summary.update(
        jobs=len(record.jobs),
        images=images,
        images_per_s=round(images / elapsed, 1),
        sessions=record.sessions,
        verdicts=len(record.verdicts),
        qa_queue_empty_after_s=(
            None if record.queue_empty_at is None else round(record.queue_empty_at, 1)
        ),
        checks_passed=all(ok for _, ok, _ in checks),
    )
    print()
    print(
        f"jobs accepted {len(record.jobs)} ({images} images, {images / elapsed:.1f} images/s "
        f"submitted); QA sessions {record.sessions}, verdicts {len(record.verdicts)}"
    )
    if record.queue_empty_at is not None:
        print(f"the QA queue had nothing left for some QA after {record.queue_empty_at:.1f} s")
    for endpoint, problems in record.unexpected.items():
        for what, count in problems.most_common(5):
            print(f"unexpected: {endpoint}: {what} (x{count})")
    for name, ok, detail in checks:
        print(f"[{'ok' if ok else 'FAIL'}] {name}: {detail}")
    print(json.dumps(summary))
    return summary

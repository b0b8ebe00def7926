"""The assisted rule's EM fit (service/qa/em.py): how long a refit takes, part of `BENCH=qa`.

Synthetic verdicts as QA gives them: snapshots over the 21 suspicion levels, one to three
verdicts each from 30 reviewers (right 60-97% of the time). For 10,000 and 100,000 verdicts:
building the arrays from rows (`Evidence.of`), a fit from nothing, and a refit started from
the previous fit after 1% more verdicts (what the background refit does as verdicts arrive).
Medians of several runs. The database read in front of a refit is measured by `BENCH=qa` on
its own database (`em_read_100k`).

    python -m scripts.bench_em     # just these, in a few seconds
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from scripts.bench import Metric
from service.qa import em

REPEATS = 7


def synthetic(verdicts: int, seed: int = 1) -> list[em.Verdict]:
    rng = np.random.default_rng(seed)
    accuracy = rng.uniform(0.6, 0.97, size=30)
    out: list[em.Verdict] = []
    snapshot = 0
    while len(out) < verdicts:
        level = round(float(rng.uniform(-1, 1)), 1)
        truth = bool(rng.random() < min(max(0.5 - 0.5 * level, 0.02), 0.98))
        for who in rng.choice(30, size=int(rng.integers(1, 4)), replace=False):
            right = bool(rng.random() < accuracy[who])
            out.append(em.Verdict(snapshot, level, f"r{who}", truth == right))
        snapshot += 1
    return out[:verdicts]


def _median_ms(fn: Callable[[], object]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000.0


def measure() -> list[Metric]:
    metrics: list[Metric] = []
    for count, label in ((10_000, "10k"), (100_000, "100k")):
        rows = synthetic(count)
        evidence = em.Evidence.of(rows)
        before = em.fit(em.Evidence.of(rows[: int(count * 0.99)]))
        metrics += [
            Metric(section="qa", name=f"em_arrays_{label}", unit="ms",
                   value=_median_ms(lambda rows=rows: em.Evidence.of(rows))),
            Metric(section="qa", name=f"em_fit_cold_{label}", unit="ms",
                   value=_median_ms(lambda e=evidence: em.fit(e))),
            Metric(section="qa", name=f"em_refit_{label}", unit="ms",
                   value=_median_ms(lambda e=evidence, b=before: em.fit(e, b))),
        ]  # fmt: skip
        cold, warm = em.fit(evidence), em.fit(evidence, before)
        print(f"[bench] qa: EM on {count} verdicts: {cold.iterations} iterations from nothing, "
              f"{warm.iterations} from the previous fit", file=sys.stderr, flush=True)  # fmt: skip
    return metrics


if __name__ == "__main__":
    for m in measure():
        print(f"{m['name']:<20} {m['value']:>9.2f} {m['unit']}")

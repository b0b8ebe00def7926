"""`make simulate` end to end: a tiny catalog with reviewers whose verdicts are certain, and the
README's figures, held at the measured values with a margin for thread interleaving (which
reviewer gets which snapshot varies from run to run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scripts.simulate import (
    CROWDS,
    GROCERY,
    TRAX,
    WARM_TRAX,
    Crowd,
    Options,
    Result,
    Scenario,
    Suite,
    prepare,
    run_scenario,
    run_suite,
)
from tests.conftest import require_shared


@pytest.mark.parametrize("consensus", ["majority", "assisted"])
def test_unanimous_reviewers(consensus: str, tmp_path: Path) -> None:
    options = Options(session_size=7, products=3, per_product=6)
    template = prepare("demo", options, tmp_path)
    for accuracy in (1.0, 0.0):
        crowd = Crowd(f"p{accuracy}", (accuracy,) * 4)
        result, _ = run_scenario(Scenario("demo", crowd, consensus), template, options, tmp_path)
        assert (result.snapshots, result.resolved) == (18, 18)
        if consensus == "majority":  # unanimous reviewers never split: two verdicts each
            assert result.verdicts == 2 * 18 and result.settled_assisted == 0
        else:  # unanimity against the model escalates (up to 5), never beyond
            assert 18 <= result.verdicts <= 5 * 18
        assert result.correct == (18 if accuracy == 1.0 else 0)
        assert result.caught == (result.wrong_attributions if accuracy == 1.0 else 0)


def _by_rule(results: list[Result], catalog: str, crowd: str) -> dict[str, Result]:
    return {
        r.scenario.rule: r
        for r in results
        if r.scenario.catalog == catalog and r.scenario.crowd.name == crowd
    }


@pytest.fixture(scope="module")
def figures() -> list[Result]:
    require_shared(TRAX)
    suite = Suite(catalogs=["demo", "trax", WARM_TRAX], crowds=list(CROWDS))
    return run_suite(suite, Options(repeats=2), echo=False)


def test_assisted_figures_on_the_demo_catalog(figures: list[Result]) -> None:
    at_09 = _by_rule(figures, "demo", "p0.9")
    majority, assisted = at_09["majority"], at_09["assisted"]
    assert majority.resolved == assisted.resolved == 1000
    assert 2.1 <= majority.per_snapshot <= 2.25  # measured 2.16-2.20
    # Verdict counts depend on how the 10 reviewer threads interleave and on when the
    # background refits land: measured 1.16-1.29 (seeds 1, 11, 21). Majority: 2.1+.
    assert assisted.per_snapshot <= 1.6
    assert assisted.accuracy >= 0.98  # measured 0.993-0.998 (majority 0.964-0.975)
    assert assisted.accuracy >= majority.accuracy
    assert assisted.caught >= assisted.wrong_attributions - 2  # measured 49-50 of 50
    # The inverted model costs verdicts, not accuracy.
    inverted = at_09["assisted, model inverted"]
    assert inverted.per_snapshot > assisted.per_snapshot  # measured 1.60-1.72
    assert inverted.accuracy >= 0.97  # measured 0.986-0.993
    assert inverted.accuracy >= majority.accuracy - 0.01  # interleaving noise of a run
    mixed = _by_rule(figures, "demo", "mixed")
    assert mixed["assisted"].accuracy >= mixed["majority"].accuracy + 0.02  # 0.98+ : 0.90-0.94
    assert mixed["assisted"].per_snapshot <= 1.9  # measured 1.36-1.41 (majority 2.28-2.31)


def test_assisted_figures_on_the_real_photos(figures: list[Result]) -> None:
    """trax-sample from an empty database: what is learnt comes from the verdicts as they
    arrive (1.21-1.28 verdicts a snapshot summed over 5 runs, a single run's sd 0.06-0.14;
    the issue's target 1.35), and after the demo's history."""
    cold, warm = _by_rule(figures, "trax", "p0.9"), _by_rule(figures, WARM_TRAX, "p0.9")
    assert cold["assisted"].resolved == warm["assisted"].resolved == 200  # 2 runs of 100
    assert cold["assisted"].per_snapshot <= 1.5  # measured 1.18-1.33 (majority 2.15-2.20)
    assert cold["assisted"].accuracy >= 0.98  # measured 0.99-1.00
    assert cold["assisted"].accuracy >= cold["majority"].accuracy - 0.01
    inverted = cold["assisted, model inverted"]
    assert inverted.accuracy >= cold["majority"].accuracy - 0.02  # 2 runs: noise 0.01
    assert warm["assisted"].per_snapshot <= 1.5  # measured 1.23-1.28 (5-run sums)
    assert warm["assisted"].accuracy >= 0.975  # measured 0.99-1.00
    assert warm["assisted"].accuracy >= warm["majority"].accuracy - 0.01
    for catalog in ("trax", WARM_TRAX):
        mixed = _by_rule(figures, catalog, "mixed")
        assert mixed["assisted"].accuracy >= mixed["majority"].accuracy  # 0.98+ : 0.93-0.95


def test_assisted_figures_on_look_alike_packs() -> None:
    """grocery-train from an empty database (21 look-alike products, 601 photos, 10% put in
    another product's folder), one run: 5-run sums of 1.29-1.38 verdicts a snapshot (a single
    run's sd 0.04) at accuracy 0.993, against the majority's 2.18 at 0.97-0.98; the issue's
    target 1.6."""
    require_shared(GROCERY)
    results = run_suite(Suite(catalogs=["grocery"], crowds=["p0.9"]), Options(repeats=1),
                        echo=False)  # fmt: skip
    at_09 = _by_rule(results, "grocery", "p0.9")
    majority, assisted = at_09["majority"], at_09["assisted"]
    assert majority.resolved == assisted.resolved == 601
    assert assisted.per_snapshot <= 1.75
    assert assisted.accuracy >= majority.accuracy - 0.01  # a run's noise: sd 0.006
    inverted = at_09["assisted, model inverted"]
    assert inverted.per_snapshot > assisted.per_snapshot
    assert inverted.accuracy >= majority.accuracy - 0.015

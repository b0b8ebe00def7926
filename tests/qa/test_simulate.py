"""The simulator end to end on a small demo catalog, with QAs whose verdicts are certain."""

from __future__ import annotations

import pytest

from scripts.simulate import Options, run


@pytest.mark.parametrize("accuracy", [1.0, 0.0])
def test_simulation_with_perfect_and_contrary_qas(accuracy: float) -> None:
    report = run(Options(qas=4, accuracy=accuracy, session_size=7, products=3, per_product=6))
    assert report.snapshots == 18
    assert report.resolved == 18
    # unanimous QAs never split: two verdicts settle every snapshot
    assert report.verdicts == 2 * 18
    assert report.consensus_correct == (18 if accuracy == 1.0 else 0)
    assert report.baseline_correct == report.consensus_correct
    assert report.baseline_same_status == 18
    assert report.wrong_caught == (report.wrong_attributions if accuracy == 1.0 else 0)
    lines = "\n".join(report.lines())
    assert "human verdicts / snapshot" in lines and "2.000" in lines

"""The report lines: one per scenario, and for summed runs their spread and the assisted
rule's accuracy against the majority's."""

from __future__ import annotations

import math
import statistics

from scripts.simulation.scenarios import Result

HEADER = (f"{'catalog':16} {'crowd':6} {'rule':25} {'verdicts/snapshot':>17} {'accuracy':>9} "
          f"{'caught':>8} {'by model':>9} {'time':>6}")  # fmt: skip


def line(result: Result) -> str:
    s = result.scenario
    caught = f"{result.caught}/{result.wrong_attributions}"
    share = result.settled_assisted / max(result.resolved, 1)
    return (f"{s.catalog:16} {s.crowd.name:6} {s.rule:25} {result.per_snapshot:>17.3f} "
            f"{result.accuracy:>9.3f} {caught:>8} {share:>9.0%} "
            f"{result.seconds:>5.1f}s")  # fmt: skip


def spread(result: Result) -> tuple[float, float]:
    """The standard deviation of the single runs' verdicts per snapshot and accuracy (0 for
    one run): how far one run of this size may land from another."""
    if len(result.singles) < 2:
        return 0.0, 0.0
    return (statistics.stdev(v for _, v, _ in result.singles),
            statistics.stdev(a for _, _, a in result.singles))  # fmt: skip


def against(result: Result, majority: Result) -> tuple[float, float]:
    """Accuracy minus the majority rule's on the same draws (the same reviewers' answers), and
    the standard error of that difference from the single runs' paired differences."""
    theirs = {draw: accuracy for draw, _, accuracy in majority.singles}
    paired = [accuracy - theirs[draw] for draw, _, accuracy in result.singles if draw in theirs]
    error = statistics.stdev(paired) / math.sqrt(len(paired)) if len(paired) > 1 else 0.0
    return result.accuracy - majority.accuracy, error


def noise_line(result: Result, majority: Result | None) -> str:
    """The second line of a summed scenario: its single runs' spread, and for the assisted
    rule its accuracy against the majority rule's."""
    sd_verdicts, sd_accuracy = spread(result)
    text = f"{'':16} {'':6} {'  sd of single runs':25} {sd_verdicts:>17.3f} {sd_accuracy:>9.3f}"
    if majority is not None and result.scenario.consensus != "majority":
        difference, error = against(result, majority)
        text += f"   accuracy - majority's: {difference:+.3f} +/- {error:.3f}"
    return text

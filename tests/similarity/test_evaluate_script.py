"""`python -m scripts.evaluate`: what analysts run to measure similarity on a catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import evaluate


@pytest.mark.parametrize(
    ("argv", "complaint"),
    [
        (["--flip", "1.5", "--catalog", "x"], "--flip must be in [0, 1)"),
        (["--flip", "0.1"], "--flip needs --catalog"),
        (["--folds", "1", "--demo"], "--folds needs K >= 2"),
        (["--folds", "3"], "--folds needs K >= 2 and --catalog or --demo"),
    ],
)
def test_bad_arguments_stop_with_a_message(
    argv: list[str], complaint: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        evaluate.main(argv)
    assert stopped.value.code == 2
    assert complaint in capsys.readouterr().err


def test_a_real_catalog_is_measured_with_a_table_and_a_json_line(
    shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = shared_data / "trax-sample"
    assert evaluate.main(["--catalog", str(catalog), "--flip", "0.1", "--seed", "2"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    measures = json.loads(lines[-1])
    # (unconfigured structlog, as under pytest, prints its lines to stdout too)
    table = {line.split()[0] for line in lines[:-1] if line.split()[0] in measures}
    assert table == set(measures)
    assert measures["misattributed"] > 0  # --flip moved some attributions
    # two very different products: every measure is (near) perfect on them
    for key in ("top1", "misattributed_top1", "suspect_precision", "reference_top1"):
        assert measures[key] >= 0.9, (key, measures)

"""Progress bars (service/progress.py, tqdm): drawn on a terminal, silent otherwise."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from service.__main__ import main
from service.config import Settings
from service.progress import progress_bar
from tests.catalog.conftest import image_bytes
from tests.conftest import migrated


class Terminal(io.StringIO):
    """A stream that says it is a TTY, as stderr is in an interactive shell."""

    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_with_the_label_and_the_count() -> None:
    stream = Terminal()
    with progress_bar("import catalog", 3, stream) as bar:
        for _ in range(3):
            bar.update()
    drawn = stream.getvalue()
    assert "import catalog" in drawn and "3/3" in drawn and "100%" in drawn
    assert "\r" in drawn  # redrawn in place


def test_a_pipe_or_log_file_gets_nothing() -> None:
    stream = io.StringIO()
    with progress_bar("import catalog", 3, stream) as bar:
        bar.update(3)
    assert stream.getvalue() == ""


def test_import_catalog_draws_its_bar_on_stderr_only_on_a_terminal(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    root = tmp_path / "catalog"
    (root / "products").mkdir(parents=True)
    (root / "products" / "12345678.jpg").write_bytes(image_bytes())
    migrated(settings)
    monkeypatch.setenv("DATABASE_URL", settings.database_url)
    monkeypatch.setenv("STORAGE_URL", settings.storage_url)
    monkeypatch.setenv("LOG_LEVEL", "warning")
    assert main(["import-catalog", str(root)]) == 0
    out, err = capsys.readouterr()
    assert "products: 1 added" in out and "import catalog" not in out + err  # not a TTY

    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    assert main(["import-catalog", str(root)]) == 0
    assert "import catalog" in terminal.getvalue() and "1/1" in terminal.getvalue()
    assert "import catalog" not in capsys.readouterr().out

"""Imports point one way (features -> http plumbing -> base) and go round no circle; the
checker itself finds both faults in a package built to have them."""

from __future__ import annotations

from pathlib import Path

from scripts.import_map import read


def test_the_service_has_no_circle_and_no_import_back_up_the_layers() -> None:
    imports = read()
    assert imports.cycles() == []
    assert imports.upward() == []


def _package(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / "service" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_map_finds_a_circle_and_an_arrow_back_up(tmp_path: Path) -> None:
    root = _package(
        tmp_path,
        {
            "__init__.py": "",
            "services.py": "def f():\n    from service.jobs.worker import g\n",  # up
            "jobs/__init__.py": "",
            "jobs/worker.py": "from .queue import q\n",
            "jobs/queue.py": "from service.jobs import worker\n",  # circle
            "config.py": "import service.db\n",
            "db/__init__.py": "",
        },
    )
    imports = read(root)
    assert imports.cycles() == [["service.jobs.queue", "service.jobs.worker"]]
    assert imports.upward() == [("service.services", "service.jobs.worker")]
    assert "service.db" in imports.edges["service.config"]

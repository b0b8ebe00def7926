"""Migration 0007 (SQLite) makes job_images again with its status check as OR-ed
comparisons: existing jobs, images and results survive it, and the rule still holds."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest

from service.config import SQL_DIR
from tests.conftest import migrate_fresh


def test_images_and_results_survive_the_rebuild_and_the_check_still_holds(tmp_path: Path) -> None:
    before = tmp_path / "sql"
    shutil.copytree(SQL_DIR, before)
    for later in [*before.glob("sqlite/000[7-9]_*.sql"), *before.glob("sqlite/00[1-9]?_*.sql")]:
        later.unlink()
    database = tmp_path / "jobs.db"
    migrate_fresh(f"sqlite:///{database}", before)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA foreign_keys = ON")
        connection.execute("INSERT INTO jobs VALUES (1, '2026-01-01 00:00:00', 1, 2)")
        connection.execute("INSERT INTO job_visits VALUES (1, 0, 'RP00001', '2026-01-01', NULL)")
        connection.executemany(
            "INSERT INTO job_images VALUES (1, ?, 0, ?, ?, ?, NULL, '1970-01-01', ?)",
            [(0, "http://a/0.png", 0, "done", 1), (1, "http://a/1.png", 1, "pending", 0)],
        )
        connection.execute(
            "INSERT INTO image_results (job_id, seq, visit_index, store_id, visit_time, url, "
            "status, attempts, started_at, finished_at, worker) VALUES (1, 0, 0, 'RP00001', "
            "'2026-01-01', 'http://a/0.png', 'done', 1, '2026-01-01', '2026-01-01', 'w')"
        )
    migrate_fresh(f"sqlite:///{database}", SQL_DIR)
    with sqlite3.connect(database) as connection:
        connection.execute("PRAGMA foreign_keys = ON")
        assert connection.execute("SELECT seq, status FROM job_images ORDER BY seq").fetchall() == [
            (0, "done"),
            (1, "pending"),
        ]
        assert connection.execute("PRAGMA foreign_key_check").fetchall() == []
        schema = connection.execute("SELECT sql FROM sqlite_schema WHERE name = 'job_images'")
        assert " IN (" not in schema.fetchone()[0]
        assert connection.execute(
            "SELECT name FROM sqlite_schema WHERE type = 'index' AND tbl_name = 'job_images' "
            "AND sql IS NOT NULL"
        ).fetchall() == [("job_images_queue",)]
        with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
            connection.execute("UPDATE job_images SET status = 'lost' WHERE seq = 1")
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            connection.execute("DELETE FROM job_images WHERE seq = 0")  # has a result

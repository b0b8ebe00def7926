"""The proof after the load: what the database says about what the clients were told."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from scripts.loadtesting.clients import Record


def check(record: Record, database_url: str) -> list[tuple[str, bool, str]]:
    """What the database says about what the clients were told."""
    from service.config import SQL_DIR
    from service.db import create_engine

    engine = create_engine(database_url, SQL_DIR)
    try:

        def rows(sql: str) -> list[dict[str, Any]]:
            return engine.read(lambda session: session.raw(sql))

        images = {
            r["job_id"]: r
            for r in rows(
                "SELECT job_id, COUNT(*) AS images, SUM(`status` = 'done') AS done FROM job_images "
                "GROUP BY job_id"
            )
        }
        results = {
            r["job_id"]: r
            for r in rows(
                "SELECT job_id, COUNT(*) AS results, COUNT(DISTINCT seq) AS seqs, "
                "SUM(`status` = 'done') AS done FROM image_results GROUP BY job_id"
            )
        }
        assignments = rows(
            "SELECT snapshot_id, username, is_match FROM qa_assignments WHERE is_match IS NOT NULL"
        )
        counts = rows(
            "SELECT id, votes_match, votes_mismatch FROM snapshots "
            "WHERE votes_match + votes_mismatch > 0"
        )
    finally:
        engine.close()

    checks: list[tuple[str, bool, str]] = [
        ("the load reached jobs and QA", bool(record.jobs) and bool(record.verdicts),
         f"{len(record.jobs)} jobs accepted, {len(record.verdicts)} verdicts answered 200"),
    ]  # fmt: skip
    unsettled = [job for job in record.jobs if record.settled.get(job) != "completed"]
    checks.append(
        (
            "every accepted job completed",
            not unsettled,
            f"{len(record.jobs)} accepted, {len(unsettled)} not completed",
        )
    )
    wrong = [
        job
        for job, count in record.jobs.items()
        if images.get(job, {}).get("images") != count
        or results.get(job, {}).get("results") != count
        or results.get(job, {}).get("seqs") != count
        or results.get(job, {}).get("done") != count
    ]
    total = sum(record.jobs.values())
    checks.append(
        (
            "one done result row per submitted image",
            not wrong,
            f"{total} images; {len(wrong)} job(s) differ",
        )
    )
    stored = {(r["snapshot_id"], r["username"]): bool(r["is_match"]) for r in assignments}
    checks.append(
        (
            "every 200 verdict stored once, as sent",
            stored == record.verdicts,
            f"{len(record.verdicts)} verdicts answered 200, {len(stored)} stored",
        )
    )
    tally: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    for (snapshot_id, _), verdict in record.verdicts.items():
        tally[snapshot_id][0 if verdict else 1] += 1
    counted = {r["id"]: [r["votes_match"], r["votes_mismatch"]] for r in counts}
    checks.append(
        (
            "snapshot vote counts equal the 200 verdicts",
            counted == dict(tally),
            f"{sum(map(sum, counted.values()))} votes counted on {len(counted)} snapshots",
        )
    )
    unexpected = sum(sum(c.values()) for c in record.unexpected.values())
    checks.append(("no unexpected answers", unexpected == 0, f"{unexpected} unexpected"))
    return checks

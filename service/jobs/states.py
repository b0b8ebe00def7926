"""Job state rules, pure: a job's status follows from its images' states."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .contract import JobState, StoreFailure

UNKNOWN_STORE = "store_id not found in store master"


def job_status(pending: int, failed: int) -> JobState:
    """Ongoing until every image is settled; then failed if any image failed."""
    if pending > 0:
        return "ongoing"
    return "failed" if failed > 0 else "completed"


def store_failures(failed_images: Iterable[Mapping[str, Any]]) -> list[StoreFailure]:
    """One entry per failed store, in submission order: its first reason, and how many more."""
    first: dict[str, str] = {}
    count: dict[str, int] = {}
    for image in failed_images:
        store_id = image["store_id"]
        first.setdefault(store_id, image["error"] or "image failed")
        count[store_id] = count.get(store_id, 0) + 1
    failures = []
    for store_id, reason in first.items():
        more = count[store_id] - 1
        if more and reason != UNKNOWN_STORE:
            reason = f"{reason} (and {more} more failed image{'s' if more > 1 else ''})"
        failures.append(StoreFailure(store_id=store_id, error=reason))
    return failures

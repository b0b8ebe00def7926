"""The QA invariants that no sequence of moves, undos and votes may break, checked in the
database (shared by the property test and the concurrency test).

- Never more holders than verdicts needed: a snapshot's `reserved` is exactly its open
  hand-outs, and they are no more than the verdicts that could still settle it (none once it
  is settled, by QA or by a lead).
- Never a verdict counted for a product it was not cast for: every verdict that counts (a
  row of qa_assignments with is_match set) was given while its reviewer was shown the
  snapshot's current product, and the snapshot's counts are exactly those verdicts.
- Every verdict the API took (200) is kept exactly once: counting, or in the record of the
  move that took it off (never both, never neither).
- The record is whole: each snapshot has moves 1..N, N its move count.
- Sessions add up: an open session's unanswered count (size - answered) is exactly its open
  hand-outs, and a closed one has none (an undo gives withdrawn hand-outs back released).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from service.qa import voting

Key = tuple[int, str, int]  # (snapshot id, username, session id)
Sql = Callable[[str], list[dict[str, Any]]]


def check(
    sql: Sql,
    votes: int,
    snapshot_ids: Iterable[int],
    shown: Mapping[Key, int],
    accepted: Mapping[Key, bool],
) -> None:
    """`shown`: the product id each hand-out showed (from the session's items); `accepted`:
    every verdict answered with 200."""
    wanted = set(snapshot_ids)
    snapshots = {r["id"]: r for r in sql(
        "SELECT id, product_id, status, votes_match, votes_mismatch, reserved, settled_by, "
        "verdicts_needed, moves FROM snapshots"
    ) if r["id"] in wanted}  # fmt: skip
    live = [r for r in sql(
        "SELECT snapshot_id, username, session_id, is_match, released FROM qa_assignments"
    ) if r["snapshot_id"] in wanted]  # fmt: skip
    kept = [r for r in sql(
        "SELECT snapshot_id, username, session_id, is_match, restored_by "
        "FROM snapshot_move_assignments"
    ) if r["snapshot_id"] in wanted]  # fmt: skip
    moves = Counter(r["snapshot_id"] for r in sql("SELECT snapshot_id FROM snapshot_moves"))
    seqs: dict[int, list[int]] = {}
    for r in sql("SELECT snapshot_id, seq FROM snapshot_moves"):
        seqs.setdefault(r["snapshot_id"], []).append(int(r["seq"]))

    for snapshot_id, row in snapshots.items():
        mine = [r for r in live if r["snapshot_id"] == snapshot_id]
        holders = [r for r in mine if r["is_match"] is None and not r["released"]]
        verdicts = [r for r in mine if r["is_match"] is not None]
        matches = sum(1 for r in verdicts if r["is_match"])
        mismatches = len(verdicts) - matches
        where = f"snapshot {snapshot_id}: {row}"
        assert int(row["reserved"]) == len(holders), f"reservations leaked, {where}"
        assert (row["votes_match"], row["votes_mismatch"]) == (matches, mismatches), where
        for r in verdicts:
            key = (snapshot_id, r["username"], int(r["session_id"]))
            assert shown[key] == row["product_id"], f"a verdict for another product counts: {where}"
        if row["settled_by"] == "lead":
            assert (row["status"], matches + mismatches, len(holders)) == ("match", 0, 0), where
        else:
            assert row["status"] == voting.status(matches, mismatches, votes), where
            needed = voting.votes_still_needed(matches, mismatches, votes)
            assert len(holders) <= needed, f"more holders than verdicts needed, {where}"
        assert sorted(seqs.get(snapshot_id, [])) == list(range(1, int(row["moves"]) + 1)), where
        assert moves[snapshot_id] == row["moves"], where

    _check_sessions(sql)
    counting = Counter(
        (r["snapshot_id"], r["username"], int(r["session_id"]), bool(r["is_match"]))
        for r in live if r["is_match"] is not None
    )  # fmt: skip
    set_aside = Counter(
        (r["snapshot_id"], r["username"], int(r["session_id"]), bool(r["is_match"]))
        for r in kept if r["is_match"] is not None and r["restored_by"] is None
    )  # fmt: skip
    together = counting + set_aside
    expected = Counter((s, u, n, v) for (s, u, n), v in accepted.items() if s in wanted)
    assert together == expected, "a 200 verdict was lost or kept twice"


def _check_sessions(sql: Sql) -> None:
    open_items = Counter(r["session_id"] for r in sql(
        "SELECT session_id FROM qa_assignments WHERE is_match IS NULL AND released = 0"
    ))  # fmt: skip
    for row in sql("SELECT id, status, size, answered FROM qa_sessions"):
        unanswered = int(row["size"]) - int(row["answered"]) if row["status"] == "open" else 0
        assert open_items[row["id"]] == unanswered, f"a session does not add up: {row}"

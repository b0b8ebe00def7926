"""Reserve snapshots for a new session, inside its transaction.

Reservation is `UPDATE snapshots SET reserved = reserved + 1 WHERE id = ? AND <it still needs
more verdicts than it has reservations>` (the consensus rule's `take`): the condition is
re-checked on the locked, current row, so two sessions racing for the last slot cannot both
win (rowcount says who did). Candidates come from a plain, possibly stale read; that only
costs a retry.
"""

from __future__ import annotations

import random

from service.db import Row, Session
from service.qa.deciding import ConsensusRule
from service.qa.picking import PickRequest, picker_for
from service.qa.rules import Rules


def _had(session: Session, snapshot_id: int, username: str) -> bool:
    """Whether the user holds a hand-out of the snapshot after all. The candidates' "never had
    it" was a plain read; a lead's undo may have given a hand-out back since (it restores them
    under the snapshot's lock, which the reservation now holds, so this read is current)."""
    key = {"snapshot_id": snapshot_id, "username": username}
    return session.fetch_one("qa_assignment", key) is not None


def take(session: Session, snapshot_id: int, username: str, rule: ConsensusRule) -> bool:
    """One reservation of the snapshot for this user, if it can take one."""
    if not rule.take(session, snapshot_id):
        return False
    if _had(session, snapshot_id, username):
        session.execute("qa_unreserve", {"snapshot_id": snapshot_id})
        return False
    return True


def reserve(
    session: Session, username: str, rules: Rules, rule: ConsensusRule, rng: random.Random
) -> list[Row]:
    """Reserve up to `rules.size` snapshots for this user; returns the reserved rows.

    Candidates are taken in the picker's order (random, or most suspicious first), but each
    round locks its rows in ascending id order and never goes below an id already tried, so
    two sessions reserving at once always lock in the same order and cannot deadlock.
    Without contention (always, on SQLite) the first round reserves the picker's top rows.
    """
    want = rules.size
    # Over-fetch a little: under concurrency some candidates are taken before we get to them.
    limit = want + want // 2 + 8
    request = rule.pick(PickRequest(username, rule.majority, limit, rng, assisted=rule.assisted))
    offered = picker_for(rules.priority)(session, request)
    taken: list[Row] = []
    last_tried = 0
    remaining = offered
    while len(taken) < want:
        need = want - len(taken)
        batch = [row for row in remaining if row["id"] > last_tried][:need]
        if not batch:
            break
        chosen = {row["id"] for row in batch}
        remaining = [row for row in remaining if row["id"] not in chosen]
        for row in sorted(batch, key=lambda r: r["id"]):
            last_tried = row["id"]
            if take(session, row["id"], username, rule):
                taken.append(row)
    if len(taken) < want and len(offered) == limit:
        # Short because others won races, and the picker may have had more to offer: top up
        # in id order above every id tried so far.
        more = session.fetch_all(
            "qa_pick_after_id",
            {"username": username, "majority": rule.majority, "after_id": last_tried,
             "limit": 2 * (want - len(taken)) + 8, "assisted": int(rule.assisted)},
        )  # fmt: skip
        for row in more:
            if len(taken) == want:
                break
            if take(session, row["id"], username, rule):
                taken.append(row)
    return taken

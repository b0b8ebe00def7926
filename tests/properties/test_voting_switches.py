"""The majority rule is a pure function of every verdict given, whatever QA_CONSENSUS was before
(issue 18, item 6).

Random verdicts on a snapshot, with QA_CONSENSUS switched between `majority` and `assisted`
at random (each switch a restart: the sweeper settles what the verdicts already decide). A
reference implementation, written apart from service/qa/voting.py, says what the majority of
all verdicts is. Checked through the session and vote functions, on SQLite:

- under `majority`, a snapshot is settled exactly when the reference decides it, and with the
  reference's answer; a tie stays pending, and is handed out again until a verdict breaks it;
- a snapshot the majority rule settled never changes afterwards, whatever rule runs next.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from service.catalog.synthetic import load_catalog
from service.config import SQL_DIR
from service.db import Database, create_engine, migrate
from service.qa import sessions, voting
from service.storage import create_blob_store

VOTES = 3
MODEL = "test-model:1"  # the assisted rule reads suspicion scores of this model (none here)


def reference(verdicts: list[bool], votes: int = VOTES) -> str:
    """The majority of all verdicts, once the leading side has a majority of `votes`."""
    matches = sum(verdicts)
    mismatches = len(verdicts) - matches
    if matches == mismatches or max(matches, mismatches) < votes // 2 + 1:
        return "pending"
    return "match" if matches > mismatches else "mismatch"


def test_the_rule_is_the_reference_for_any_counts() -> None:
    for votes in (1, 3, 5, 7):
        for matches, mismatches in itertools.product(range(12), repeat=2):
            verdicts = [True] * matches + [False] * mismatches
            assert voting.status(matches, mismatches, votes) == reference(verdicts, votes)
            needed = voting.votes_still_needed(matches, mismatches, votes)
            if reference(verdicts, votes) != "pending":
                assert needed == 0
                continue
            # `needed` more verdicts on the leading side settle it; one fewer of any kind cannot
            leader = matches >= mismatches
            assert reference(verdicts + [leader] * needed, votes) != "pending"
            assert all(
                reference(verdicts + [True] * k + [False] * (needed - 1 - k), votes) == "pending"
                for k in range(needed)
            )


@dataclass
class World:
    db: Database
    root: Path
    examples: Iterator[int]

    def row(self, snapshot_id: int) -> dict:
        return asyncio.run(
            self.db.read(
                lambda s: s.raw(
                    "SELECT status, votes_match, votes_mismatch, reserved FROM snapshots "
                    "WHERE id = :id",
                    {"id": snapshot_id},
                )
            )
        )[0]

    def new_snapshot(self, example: int) -> int:
        """One pending snapshot that is the only one anyone can be handed."""
        engine = self.db.engine
        engine.write(
            lambda s: s.raw("UPDATE snapshots SET status = 'match' WHERE status = 'pending'")
        )
        blobs = create_blob_store(f"file://{self.root / 'blobs'}")
        try:
            (snapshot_id,) = load_catalog(engine, blobs, products=1, snapshots=1, seed=example + 1)
        finally:
            blobs.close()
        return snapshot_id


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("switches")
    engine = create_engine(f"sqlite:///{root / 'qa.db'}", SQL_DIR)
    migrate(engine, SQL_DIR)
    db = Database(engine, threads=2)
    try:
        yield World(db, root, itertools.count())
    finally:
        db.close()


def rules(consensus: str) -> sessions.Rules:
    return sessions.Rules(
        size=1, votes=VOTES, ttl=timedelta(hours=1), consensus=consensus, model=MODEL
    )


phases = st.lists(
    st.tuples(
        st.sampled_from(["majority", "assisted"]),
        st.lists(st.booleans(), min_size=1, max_size=6),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=60, deadline=None, database=None, derandomize=True)
@given(plan=phases)
def test_majority_after_any_switches_is_the_majority_of_all_verdicts(
    world: World, plan: list[tuple[str, list[bool]]]
) -> None:
    example = next(world.examples)
    snapshot_id = world.new_snapshot(example)
    verdicts: list[bool] = []
    settled: tuple[str, str] | None = None  # (the rule in force, the status) when it settled
    users = (f"x{example}-{n}" for n in itertools.count())

    def check(consensus: str) -> None:
        nonlocal settled
        row = world.row(snapshot_id)
        assert (row["votes_match"], row["votes_mismatch"]) == (
            sum(verdicts),
            len(verdicts) - sum(verdicts),
        )
        if settled is not None:
            assert row["status"] == settled[1]  # a settled snapshot never changes
        elif row["status"] != "pending":
            settled = (consensus, row["status"])
        if consensus == "majority" and (settled is None or settled[0] == "majority"):
            # Pending exactly while the verdicts decide nothing; else their majority.
            assert row["status"] == reference(verdicts), (verdicts, row)

    for consensus, answers in plan:
        current = rules(consensus)
        if consensus == "majority":  # a restart: the sweeper settles what is decided
            asyncio.run(sessions.settle_decided(world.db, current))
            check(consensus)
        for verdict in answers:
            if settled is not None:
                break
            user = next(users)
            try:
                view = asyncio.run(sessions.create_session(world.db, user, current))
            except sessions.NothingToValidate:
                # Only the assisted rule may decline (its own limit of holders); the majority
                # rule always hands out a pending snapshot, a tie included.
                assert consensus == "assisted", (verdicts, world.row(snapshot_id))
                break
            assert [item["snapshot_id"] for item in view.items] == [snapshot_id]
            asyncio.run(
                sessions.vote(world.db, user, view.session_id, snapshot_id, verdict, current)
            )
            verdicts.append(verdict)
            check(consensus)
    if settled is not None and settled[0] == "majority":
        assert settled[1] == reference(verdicts)

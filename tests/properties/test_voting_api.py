"""The voting rule through the QA API and the database, under any order of events: QAs take
the snapshot, answer, retry an answer, or walk away until their session expires.

After every step the snapshot's stored counts obey the rule (never more than QA_VOTES
verdicts, settled exactly when a majority is certain, no reservation left on a settled
snapshot) and every verdict the API accepted with a 200 is counted exactly once.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from service.catalog.synthetic import load_catalog
from service.config import SQL_DIR, Settings
from service.db import Engine, create_engine
from service.qa import sessions, voting
from service.storage import create_blob_store
from tests.conftest import make_app, make_settings
from tests.qa.conftest import Clock

VOTES = 5  # room for splits, retries and walk-aways before a majority is certain
TTL = 600.0
USERS = 12


@dataclass
class World:
    client: TestClient[Litestar]
    engine: Engine
    settings: Settings
    clock: Clock
    examples: Iterator[int] = field(default_factory=itertools.count)

    def row(self, snapshot_id: int) -> dict:
        rows = self.engine.read(
            lambda s: s.raw(
                "SELECT status, votes_match, votes_mismatch, reserved FROM snapshots "
                "WHERE id = :id",
                {"id": snapshot_id},
            )
        )
        return rows[0]

    def new_snapshot(self, example: int) -> int:
        """One pending snapshot that is the only one anyone can be handed."""
        self.engine.write(
            lambda s: s.raw("UPDATE snapshots SET status = 'match' WHERE status = 'pending'")
        )
        blobs = create_blob_store(self.settings.storage_url)
        try:
            (snapshot_id,) = load_catalog(
                self.engine, blobs, products=1, snapshots=1, seed=example + 1
            )
        finally:
            blobs.close()
        return snapshot_id


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root: Path = tmp_path_factory.mktemp("voting")
    settings = make_settings(
        root, log_level="error", qa_votes=VOTES, qa_session_size=1, qa_session_ttl=TTL
    )
    clock = Clock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sessions, "utcnow", clock)
        app = make_app(settings)
        engine = create_engine(settings.database_url, SQL_DIR)
        try:
            with TestClient(app=app, raise_server_exceptions=False) as client:
                yield World(client, engine, settings, clock)
        finally:
            engine.close()


# Rounds: some QAs take the snapshot (holding it at once), then some of them answer (a few
# twice: a retried PATCH), then maybe everyone still holding it walks away.
rounds = st.lists(
    st.tuples(
        st.lists(st.integers(0, USERS - 1), min_size=1, max_size=VOTES, unique=True),
        st.lists(st.tuples(st.integers(0, USERS - 1), st.booleans(), st.booleans()), max_size=6),
        st.booleans(),
    ),
    min_size=1,
    max_size=5,
)


@settings(max_examples=40, deadline=None, database=None, derandomize=True)
@given(plan=rounds, finish=st.lists(st.booleans(), min_size=VOTES, max_size=VOTES))
def test_any_order_of_events_keeps_the_rule(
    world: World,
    plan: list[tuple[list[int], list[tuple[int, bool, bool]], bool]],
    finish: list[bool],
) -> None:
    example = next(world.examples)
    snapshot_id = world.new_snapshot(example)
    client = world.client
    held: dict[str, int] = {}  # user -> session id holding the snapshot
    answered: dict[str, bool] = {}  # user -> verdict the API took (200)
    majority = voting.majority(VOTES)

    def name(user: int) -> dict[str, str]:
        return {"username": f"e{example}-u{user}"}

    def take(headers: dict[str, str]) -> None:
        response = client.post("/qa/session", headers=headers)
        if response.status_code == 201:
            body = response.json()
            assert [s["snapshot_id"] for s in body["snapshots"]] == [snapshot_id]
            held[headers["username"]] = body["session_id"]
        else:
            assert response.status_code == 400, response.text

    def answer(headers: dict[str, str], verdict: bool) -> int:
        session_id = held.get(headers["username"], 1)
        path = f"/qa/session/{session_id}/snapshot/{snapshot_id}"
        response = client.patch(path, json={"is_match": verdict}, headers=headers)
        assert response.status_code in (200, 404, 409), response.text
        if response.status_code == 200:
            assert headers["username"] not in answered  # one verdict per QA, ever
            answered[headers["username"]] = verdict
        return response.status_code

    def check() -> None:
        row = world.row(snapshot_id)
        matches, mismatches = row["votes_match"], row["votes_mismatch"]
        assert (matches, mismatches) == (
            sum(answered.values()),
            len(answered) - sum(answered.values()),
        ), "a 200 verdict was lost or counted twice"
        assert matches + mismatches <= VOTES
        assert row["status"] == voting.status(matches, mismatches, VOTES)
        assert row["reserved"] >= 0 and row["reserved"] + max(matches, mismatches) <= majority
        if row["status"] != voting.PENDING:
            assert row["reserved"] == 0

    for takers, answers, walk_away in plan:
        for user in takers:
            take(name(user))
            check()
        for user, verdict, retry in answers:
            headers = name(user)
            if headers["username"] in answered:
                continue  # answered in an earlier round; a retry is below
            if answer(headers, verdict) == 200 and retry:
                assert answer(headers, verdict) in (404, 409)  # counted once
            check()
        if walk_away:
            # Everyone idle for longer than the TTL; the next session request sweeps them.
            world.clock.advance(TTL + 1)
            held.clear()
    # New QAs take it up until it settles; the rule is never stuck on leaked reservations.
    world.clock.advance(TTL + 1)
    for extra, verdict in enumerate(finish):
        if world.row(snapshot_id)["status"] != voting.PENDING:
            break
        headers = name(USERS + extra)
        take(headers)
        assert headers["username"] in held, "a pending snapshot could not be handed out"
        assert answer(headers, verdict) == 200
        check()
    row = world.row(snapshot_id)
    assert row["status"] != voting.PENDING
    assert row["votes_match"] + row["votes_mismatch"] <= VOTES

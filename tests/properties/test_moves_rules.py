"""No sequence of a lead's moves, undos and marks, QA sessions, verdicts (late ones
included) and session expiries breaks the QA invariants (tests/lead/invariants.py): never
more holders than verdicts needed, never a verdict counted for a product it was not cast
for, every 200 verdict kept exactly once, and a whole record of moves. Moves run both ways:
back to the QA queue, and settled by the lead (QA_TRUST_LEAD), through the API."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from litestar import Litestar
from litestar.testing import TestClient

from service.catalog.synthetic import load_catalog
from service.config import SQL_DIR, Settings
from service.db import Engine, create_engine
from service.qa import sessions
from service.storage import create_blob_store
from tests.conftest import make_app, make_settings
from tests.lead import invariants
from tests.qa.conftest import Clock

VOTES = 3
TTL = 600.0
USERS = 5
PRODUCTS = 3
SNAPSHOTS = 3


@dataclass
class World:
    queued: TestClient[Litestar]  # QA_TRUST_LEAD off: a move sends the snapshot back to QA
    trusted: TestClient[Litestar]  # QA_TRUST_LEAD on: a move settles it as the lead's match
    engine: Engine
    settings: Settings
    clock: Clock
    examples: Iterator[int] = field(default_factory=itertools.count)

    def sql(self, text: str) -> list[dict[str, Any]]:
        return self.engine.read(lambda s: s.raw(text))

    def new_catalog(self, example: int) -> tuple[list[int], list[str]]:
        """Snapshots that only this example's QAs can be handed, and its products' UPCs."""
        self.engine.write(
            lambda s: s.raw("UPDATE snapshots SET status = 'match' WHERE status = 'pending'")
        )
        blobs = create_blob_store(self.settings.storage_url)
        try:
            ids = load_catalog(
                self.engine, blobs, products=PRODUCTS, snapshots=SNAPSHOTS, seed=example + 1
            )
        finally:
            blobs.close()
        base = 10_000_000 + (example + 1) * 1_000_000
        return ids, [str(base + i) for i in range(PRODUCTS)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root: Path = tmp_path_factory.mktemp("moves")
    base = make_settings(
        root, log_level="error", qa_votes=VOTES, qa_session_size=2, qa_session_ttl=TTL
    )
    clock = Clock()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sessions, "utcnow", clock)
        queued, trusted = make_app(base), make_app(base, qa_trust_lead=True)
        engine = create_engine(base.database_url, SQL_DIR)
        try:
            with (
                TestClient(app=queued, raise_server_exceptions=False) as one,
                TestClient(app=trusted, raise_server_exceptions=False) as two,
            ):
                yield World(one, two, engine, base, clock)
        finally:
            engine.close()


user = st.integers(0, USERS - 1)
snapshot = st.integers(0, SNAPSHOTS - 1)
lead_step = st.one_of(
    st.tuples(st.just("move"), snapshot, st.integers(1, PRODUCTS - 1), st.booleans()),
    st.tuples(st.just("undo"), snapshot),
    st.tuples(st.just("mark"), snapshot, st.booleans(), st.booleans()),
)
# Rounds: some QAs take sessions, some answer (late answers too: a snapshot moved since),
# then a lead moves, undoes or marks something, and maybe every session idles past the TTL.
rounds = st.lists(
    st.tuples(
        st.lists(user, max_size=USERS, unique=True),
        st.lists(st.tuples(user, st.integers(0, 3), st.booleans()), max_size=8),
        st.lists(lead_step, min_size=1, max_size=2),
        st.integers(0, 5),  # 0: everyone walks away (sessions expire)
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=80, deadline=None, database=None, derandomize=True)
@given(plan=rounds)
def test_no_sequence_of_moves_and_votes_breaks_the_qa_invariants(
    world: World, plan: list[tuple[Any, ...]]
) -> None:
    example = next(world.examples)
    ids, upcs = world.new_catalog(example)
    client = world.queued
    held: dict[str, tuple[int, list[int]]] = {}  # user -> (session id, snapshots handed out)
    answered: set[tuple[int, int]] = set()  # (session id, snapshot id) answered with 200
    shown: dict[invariants.Key, int] = {}
    accepted: dict[invariants.Key, bool] = {}

    def name(n: int) -> str:
        return f"m{example}-u{n}"

    def snapshot_of(index: int) -> dict[str, Any]:
        response = client.get(f"/api/snapshots/{ids[index]}")
        assert response.status_code == 200
        return response.json()

    steps: list[tuple[Any, ...]] = []
    for takers, answers, leads, idle in plan:
        steps += [("start", who) for who in takers]
        steps += [("answer", *answer) for answer in answers]
        steps += leads
        steps += [("expire", 0)] if idle == 0 else []
    for step in steps:
        kind = step[0]
        if kind == "start":
            who = name(step[1])
            response = client.post("/qa/session", headers={"username": who})
            assert response.status_code in (201, 400), response.text
            if response.status_code == 201:
                body = response.json()
                held[who] = (body["session_id"], [s["snapshot_id"] for s in body["snapshots"]])
                for item in body["snapshots"]:
                    shown[(item["snapshot_id"], who, body["session_id"])] = item["product_id"]
        elif kind == "answer":
            who = name(step[1])
            if who not in held:
                continue
            session_id, items = held[who]
            snapshot_id = items[step[2] % len(items)]
            response = client.patch(
                f"/qa/session/{session_id}/snapshot/{snapshot_id}",
                json={"is_match": step[3]},
                headers={"username": who},
            )
            # 409: answered before, or a lead moved it since it was handed out; 404: expired
            assert response.status_code in (200, 404, 409), response.text
            if response.status_code == 200:
                assert (session_id, snapshot_id) not in answered
                answered.add((session_id, snapshot_id))
                accepted[(snapshot_id, who, session_id)] = step[3]
        elif kind == "move":
            current = snapshot_of(step[1])
            target = upcs[(upcs.index(current["product"]["upc"]) + step[2]) % PRODUCTS]
            mover = world.trusted if step[3] else world.queued
            response = mover.patch(
                f"/api/snapshots/{ids[step[1]]}",
                json={"product_upc": target, "version": current["version"]},
                headers={"username": "lead"},
            )
            assert response.status_code == 200, response.text
        elif kind == "undo":
            current = snapshot_of(step[1])
            response = client.post(
                f"/api/snapshots/{ids[step[1]]}/undo",
                json={"version": current["version"]},
                headers={"username": "lead"},
            )
            assert response.status_code in (200, 409), response.text
            if response.status_code == 409:  # never moved, or its last move is undone already
                last = client.get(f"/api/snapshots/{ids[step[1]]}/history").json()["moves"]
                assert not last or last[0]["kind"] == "undo"
        elif kind == "mark":
            current = snapshot_of(step[1])
            body = {"reviewed": step[2], "qa_first": step[3], "version": current["version"]}
            response = client.patch(
                f"/api/snapshots/{ids[step[1]]}", json=body, headers={"username": "lead"}
            )
            if step[3] and current["status"] != "pending":
                assert response.status_code == 400, response.text
            else:
                assert response.status_code == 200, response.text
        elif kind == "expire":
            world.clock.advance(TTL + 1)
            sweep = client.get("/qa/session", headers={"username": name(step[1])})
            assert sweep.status_code in (200, 404)
            held.clear()
        invariants.check(world.sql, VOTES, ids, shown, accepted)

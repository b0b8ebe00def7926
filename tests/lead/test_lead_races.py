"""Races between a lead's change and QA, replayed step by step in one thread on MariaDB
(READ COMMITTED, row locks): a QA transaction is paused after one of its statements while a
lead's change runs to its end on another connection, whose short lock wait shows whether the
paused transaction held what the change needed. SQLite serialises writers, so none of these
interleavings can happen there."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

import msgspec
import pytest

from service.clock import utcnow
from service.config import SQL_DIR, Settings
from service.db import Engine, LockConflict, Session, create_engine
from service.lead import moves as lead_moves
from service.qa import deciding, sessions, verdicts
from service.qa import moves as qa_moves
from tests.lead.conftest import LEAD, Desk
from tests.qa.conftest import QA


@pytest.fixture
def qa_settings(settings: Settings, mariadb_url: str) -> Settings:
    return msgspec.structs.replace(settings, database_url=mariadb_url)


@pytest.fixture
def lead_engine(qa_settings: Settings) -> Iterator[Engine]:
    """The lead's connection: it gives up on a row lock after 1 s (LockConflict)."""
    engine = create_engine(qa_settings.database_url, SQL_DIR, lock_wait_timeout=1)
    yield engine
    engine.close()


class Paused:
    """A session that runs `step` once, right before its first statement named `before`."""

    def __init__(self, inner: Session, before: str, step: Callable[[], None]) -> None:
        self.inner = inner
        self.before = before
        self.step: Callable[[], None] | None = step

    def _first(self, name: str) -> None:
        if name == self.before and self.step is not None:
            step, self.step = self.step, None
            step()

    def fetch_one(self, name: str, params: Any = None) -> Any:
        self._first(name)
        return self.inner.fetch_one(name, params)

    def fetch_all(self, name: str, params: Any = None) -> Any:
        self._first(name)
        return self.inner.fetch_all(name, params)

    def execute(self, name: str, params: Any = None) -> Any:
        self._first(name)
        return self.inner.execute(name, params)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


def _paused(body: Callable[[Session], Any], before: str, step: Callable[[], None]) -> Any:
    return lambda session: body(Paused(session, before, step))


def _attempt(engine: Engine, body: Callable[[Session], Any]) -> str:
    """Run a lead's transaction: 'done', or 'waited' when it lost a row lock."""
    try:
        engine.write(body)
    except LockConflict:
        return "waited"
    return "done"


def _rules(qa: QA) -> sessions.Rules:
    return sessions.Rules.from_settings(qa.client.app.state.settings)


def _majority(rules: sessions.Rules) -> deciding.MajorityRule:
    return deciding.MajorityRule(rules.votes, rules.majority)


def _vote_body(qa: QA, session_id: int, snapshot_id: int) -> Callable[[Session], int]:
    """alice's verdict "match" on the snapshot, as one transaction body."""
    rules = _rules(qa)
    verdict = verdicts.Verdict("alice", session_id, snapshot_id, True)
    return partial(verdicts.record, verdict=verdict, rule=_majority(rules), now=utcnow(),
                   ttl=rules.ttl)  # fmt: skip


def _move_body(desk: Desk, snapshot_id: int) -> Callable[[Session], None]:
    current = desk.snapshot(snapshot_id)
    change = lead_moves.Change(
        snapshot_id, current["version"], LEAD, product_upc=desk.other_upc(snapshot_id)
    )
    return partial(lead_moves._change, change=change, trust_lead=False, now=utcnow())


def _undo_body(desk: Desk, snapshot_id: int) -> Callable[[Session], None]:
    version = desk.snapshot(snapshot_id)["version"]
    return partial(lead_moves._undo, snapshot_id=snapshot_id, version=version, username=LEAD,
                   reason=None, now=utcnow())  # fmt: skip


def _open_hand_outs_outside_open_sessions(desk: Desk) -> list[dict[str, Any]]:
    return desk.sql(
        "SELECT a.snapshot_id, a.session_id, q.status FROM qa_assignments a "
        "JOIN qa_sessions q ON q.id = a.session_id "
        "WHERE a.is_match IS NULL AND a.released = 0 AND q.status <> 'open'"
    )


def test_a_move_cannot_slip_between_a_verdicts_read_and_its_count(
    make_qa: Callable[..., QA], lead_engine: Engine
) -> None:
    """The race behind "Session expired" on a live session: the verdict read its hand-out
    (open), a move then withdrew it and completed the session, and the verdict's count found
    the session closed. Now the verdict locks the session before it reads the hand-out, so a
    move run between that read and the count waits for the verdict, and runs after it (taking
    the verdict along)."""
    desk = Desk(make_qa(snapshots=2, products=2, qa_session_size=2))
    qa = desk.qa
    first, second = sorted(qa.snapshot_ids)
    alice = qa.start("alice").json()
    assert qa.answer("alice", alice["session_id"], second, True).status_code == 200
    move = _move_body(desk, first)
    outcome: list[str] = []

    vote = _vote_body(qa, alice["session_id"], first)
    step = lambda: outcome.append(_attempt(lead_engine, move))  # noqa: E731
    remaining = qa.engine.write(_paused(vote, "qa_count_answer", step))

    assert (outcome, remaining) == (["waited"], 0)  # the verdict counted; the move waited
    assert _attempt(lead_engine, move) == "done"
    [session] = desk.sql("SELECT status, size, answered FROM qa_sessions")
    assert session == {"status": "completed", "size": 2, "answered": 2}
    [record] = desk.history(first)
    assert record["held"]["released"] == 0  # nothing open to withdraw: it was answered
    assert _open_hand_outs_outside_open_sessions(desk) == []


def test_a_move_that_went_first_makes_the_verdict_a_409(
    make_qa: Callable[..., QA], lead_engine: Engine
) -> None:
    """The other order: the move commits before the verdict's first statement. The move
    completed the session (nothing left to answer), and the verdict is the 409 of a move."""
    desk = Desk(make_qa(snapshots=2, products=2, qa_session_size=2))
    qa = desk.qa
    first, second = sorted(qa.snapshot_ids)
    alice = qa.start("alice").json()
    assert qa.answer("alice", alice["session_id"], second, True).status_code == 200
    move = _move_body(desk, first)
    outcome: list[str] = []

    vote = _vote_body(qa, alice["session_id"], first)
    outcome.append(_attempt(lead_engine, move))
    with pytest.raises(qa_moves.MovedAway):
        qa.engine.write(vote)
    assert outcome == ["done"]
    [session] = desk.sql("SELECT status, size, answered FROM qa_sessions")
    assert session == {"status": "completed", "size": 1, "answered": 1}


def test_an_undo_between_a_hand_outs_pick_and_its_reservation_is_not_a_500(
    make_qa: Callable[..., QA], lead_engine: Engine
) -> None:
    """alice's hand-out of `first` went with a move (her session completed with it); she
    starts again, and `first` is her one candidate (she holds no hand-out of it now). Between
    that pick and her reservation, an undo gives her old hand-out back (released). Her new
    session must not be handed `first` a second time: the primary key would refuse it (a 500);
    she has nothing left to validate (a 400)."""
    desk = Desk(make_qa(snapshots=2, products=2, qa_session_size=2))
    qa = desk.qa
    first, second = sorted(qa.snapshot_ids)
    alice = qa.start("alice").json()
    assert qa.answer("alice", alice["session_id"], second, True).status_code == 200
    assert desk.move(first, desk.other_upc(first)).status_code == 200  # completes her session
    undo = _undo_body(desk, first)
    outcome: list[str] = []

    rules = _rules(qa)
    create = partial(sessions._create, username="alice", rules=rules, rule=_majority(rules),
                     now=utcnow(), rng=random.Random(0))  # fmt: skip
    step = lambda: outcome.append(_attempt(lead_engine, undo))  # noqa: E731
    with pytest.raises(sessions.NothingToValidate):
        qa.engine.write(_paused(create, "qa_reserve", step))

    assert outcome == ["done"]  # the undo held nothing the new session held, and went first
    assert desk.sql("SELECT reserved FROM snapshots WHERE id = :id", {"id": first}) == [
        {"reserved": 0}
    ]
    given_back = desk.sql(
        "SELECT session_id, released FROM qa_assignments WHERE snapshot_id = :id", {"id": first}
    )
    assert given_back == [{"session_id": alice["session_id"], "released": 1}]
    assert _open_hand_outs_outside_open_sessions(desk) == []

"""Release sessions idle past their TTL: their user is freed, their unanswered hand-outs are
released (kept, so the user never gets those snapshots again) and their reservations given
back. Time is a parameter (`now`), so a test can move it instead of sleeping."""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

import structlog

from service.db import Database, Session

log = structlog.get_logger(__name__)


def expire(session: Session, session_id: int, now: datetime, cutoff: datetime) -> int | None:
    """Close one idle session and release its unanswered snapshots; returns how many (None:
    the session was answered or closed meanwhile). A transaction body."""
    params = {"session_id": session_id, "now": now, "cutoff": cutoff}
    if session.execute("qa_expire_session", params).rowcount != 1:
        return None
    state = session.fetch_one("qa_session_by_id", {"session_id": session_id})
    assert state is not None
    session.execute("qa_release_user", {"username": state["username"], "session_id": session_id})
    unanswered = session.fetch_all("qa_unanswered_snapshots", {"session_id": session_id})
    session.execute("qa_release_assignments", {"session_id": session_id})
    session.execute_many("qa_unreserve", [{"snapshot_id": r["snapshot_id"]} for r in unanswered])
    return len(unanswered)


async def expire_one(db: Database, session_id: int, now: datetime, ttl: timedelta) -> int | None:
    """`expire` in a transaction of its own."""
    return await db.transaction(partial(expire, session_id=session_id, now=now, cutoff=now - ttl))


async def sweep(db: Database, ttl: timedelta, now: datetime, limit: int = 200) -> int:
    """Expire sessions idle longer than the TTL at `now`; returns how many were closed."""
    idle = await db.fetch_all("qa_idle_sessions", {"cutoff": now - ttl, "limit": limit})
    closed = 0
    for row in idle:
        released = await expire_one(db, row["id"], now, ttl)
        if released is not None:
            closed += 1
            log.info("qa session expired", session_id=row["id"], released=released)
    return closed

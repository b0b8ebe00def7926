"""QA HTTP handlers under /qa. Paths and field names are fixed: the QA web page speaks them."""

from __future__ import annotations

import dataclasses
from typing import Literal

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import Provide
from litestar.response import Stream

from service import strict_json
from service.errors import InvalidInput
from service.http.schema import RowId, error_responses, json_body_operation
from service.http.users import qa_username
from service.qa import deciding, reports, scoring, sessions
from service.qa.models import (
    LeaderboardEntry,
    QASession,
    Remaining,
    SessionSnapshot,
    Verdict,
)
from service.services import Services

_USER = "Missing or invalid `username` header"
# Row ids are positive 64-bit integers; a larger path id is a 400, not a database overflow.


def _view(services: Services, view: sessions.SessionView) -> QASession:
    url = services.blobs.url
    return QASession(
        session_id=view.session_id,
        remaining_snapshots_quantity=view.remaining,
        snapshots=[
            SessionSnapshot(
                snapshot_id=row["snapshot_id"],
                snapshot_image_url=url(row["snapshot_image_key"]),
                product_id=row["product_id"],
                product_upc=row["product_upc"],
                product_name=row["product_name"],
                product_image_url=url(row["product_image_key"]),
            )
            for row in view.items
        ],
    )


async def _rules(services: Services) -> sessions.Rules:
    settings = services.settings
    if settings.qa_consensus != "assisted":
        return sessions.Rules.from_settings(settings)
    # The assisted rule's prior reads the suspicion scores of the active projection.
    return sessions.Rules.from_settings(settings, model=await scoring.model_name(services))


def _verdict(body: bytes) -> Verdict:
    """Exactly `{"is_match": true|false}`. Read by hand: Litestar converts bodies leniently
    (1 or "true" would pass as true) and names an empty body only as `data`."""
    expected = 'the body must be exactly {"is_match": true|false}'
    if not body.strip():
        raise InvalidInput(f"{expected}, got an empty body")
    try:
        return strict_json.decode(body, Verdict)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"{expected}: {exc}") from None


class QAController(Controller):
    path = "/qa"
    tags = ["qa"]
    dependencies = {"qa_user": Provide(qa_username, sync_to_thread=False)}

    @post(
        "/session",
        operation_id="create_qa_session",
        summary="Start a QA session: up to QA_SESSION_SIZE snapshots to review",
        status_code=201,
        responses=error_responses(
            e400=f'"Session already exists", "Not enough snapshots to validate", or: {_USER}'
        ),
    )
    async def create_session(self, services: Services, qa_user: str) -> QASession:
        """400 "Session already exists" while the user has an unfinished session; 400 "Not
        enough snapshots to validate" when none is available to this user."""
        view = await sessions.create_session(services.db, qa_user, await _rules(services))
        return _view(services, view)

    @get(
        "/session",
        operation_id="get_qa_session",
        summary="The user's unfinished session with its unanswered snapshots",
        responses=error_responses(e400=_USER, e404="The user has no unfinished session"),
    )
    async def get_session(self, services: Services, qa_user: str) -> QASession:
        """404 if the user has no unfinished session."""
        rules = await _rules(services)
        return _view(services, await sessions.current_session(services.db, qa_user, rules))

    @patch(
        "/session/{session_id:int}/snapshot/{snapshot_id:int}",
        operation_id="answer_qa_snapshot",
        summary="Answer one snapshot of the session: is it the product?",
        status_code=200,
        operation_class=json_body_operation(Verdict, 'Exactly {"is_match": true|false}.'),
        responses=error_responses(
            e400=f'The body is not exactly {{"is_match": true|false}}, an id is out of range, '
            f"or: {_USER}",
            e404="The snapshot is not in this user's open session (or the session expired)",
            e409="Already answered (a retried verdict counts once), or a lead moved the "
            "snapshot to another product since it was handed out (the answer is not counted)",
        ),
    )
    async def answer(
        self,
        request: Request,
        services: Services,
        qa_user: str,
        session_id: RowId,
        snapshot_id: RowId,
    ) -> Remaining:
        """The body is exactly {"is_match": true|false}: anything else is 400. 404 if the
        snapshot is not in this user's open session; 409 if it was already answered, or if
        a lead moved the snapshot to another product meanwhile."""
        verdict = _verdict(await request.body())
        remaining = await sessions.vote(
            services.db, qa_user, session_id, snapshot_id, verdict.is_match, await _rules(services)
        )
        return Remaining(remaining_snapshots_quantity=remaining)

    @get(
        "/leaderboard",
        operation_id="qa_leaderboard",
        summary="QA standings, best first",
        responses=error_responses(e400=_USER),
    )
    async def leaderboard(self, services: Services, qa_user: str) -> list[LeaderboardEntry]:
        """Accuracy points: 1000 x the Wilson lower bound (95%) of agreement with the final
        status on resolved snapshots. Activity points: verdicts in completed sessions. Under
        QA_CONSENSUS=assisted, `reliability` is the rule's estimate of each reviewer."""
        standings = await reports.leaderboard(services.db)
        rule = await deciding.load(services.db, await _rules(services))
        return [
            LeaderboardEntry(**dataclasses.asdict(s), reliability=rule.reliability(s.username))
            for s in standings
        ]

    @get(
        "/export",
        operation_id="qa_export",
        summary="The cleaned dataset, streamed as CSV or JSON lines",
        media_type="text/csv",
        responses=error_responses(e400=f"A bad status or format, or: {_USER}"),
    )
    async def export(
        self,
        services: Services,
        qa_user: str,
        status: Literal["match", "mismatch", "pending"] | None = None,
        format: Literal["csv", "jsonl"] = "csv",
    ) -> Response:
        """Columns: snapshot_id, product_upc (its current product), image_url, votes_match,
        votes_mismatch, status, confidence (the posterior of the status; empty under the
        majority rule, for a lead's, or while pending), settled_by (majority, assisted or lead;
        empty while pending), moves (how many times a lead moved it to another product)."""
        media_type = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
        name = f"snapshots-{status or 'all'}.{format}"
        return Stream(
            reports.export_rows(services.db, services.blobs.url, status, format),
            media_type=media_type,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

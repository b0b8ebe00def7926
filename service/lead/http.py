"""The lead's HTTP handlers: changes to a snapshot (PATCH /api/snapshots/{id}, its undo) and
its history under /api/snapshots; the desk's reads under /api/lead are in
service/lead/desk_http.py."""

from __future__ import annotations

from litestar import Controller, Request, Response, get, patch, post
from litestar.di import Provide

from service.catalog.http import snapshot_response
from service.catalog.models import Snapshot
from service.clock import utcnow
from service.http.schema import RowId, error_responses, json_body_operation
from service.lead import history, moves, relabel
from service.lead.desk_http import LeadDeskController
from service.lead.models import SnapshotChange, SnapshotHistory, UndoRequest
from service.lead.requests import USER, IfMatch, decode, lead_username, version_of
from service.services import Services

_VERSION_NEEDED = (
    "No version named: send If-Match with the snapshot's ETag (its version) or a `version` field"
)
_CHANGED = "The snapshot changed since that version (the body's `version` is the current one)"
_BUSY = "QA kept the snapshot busy through every retry; try again"


class LeadSnapshotController(Controller):
    path = "/api/snapshots"
    tags = ["lead"]

    @patch(
        "/{snapshot_id:int}",
        operation_id="change_snapshot",
        summary="A lead moves a snapshot to another product, or marks it",
        dependencies={"lead": Provide(lead_username, sync_to_thread=False)},
        operation_class=json_body_operation(
            SnapshotChange,
            "At least one of product_upc (a move, with an optional reason), reviewed, qa_first;"
            " and the version it is based on (or If-Match).",
        ),
        responses=error_responses(
            e400="A bad body, If-Match or id; nothing to change; a move to the product it "
            f"already has; QA first for a settled snapshot; or: {USER}",
            e404="No snapshot with this id, or no product with this UPC",
            e409=_CHANGED,
            e428=_VERSION_NEEDED,
            e503=_BUSY,
        ),
    )
    async def change(
        self,
        request: Request,
        services: Services,
        lead: str,
        snapshot_id: RowId,
        if_match: IfMatch = None,
    ) -> Response[Snapshot]:
        """A move takes effect in one transaction with its record (GET .../history) and the
        release of QA reservations. The snapshot goes back to QA as pending (or, with
        QA_TRUST_LEAD, is settled as a match by the lead); the verdicts given for its old
        product stop counting but stay in its history. 409 if it changed since `version`."""
        body = decode(await request.body(), SnapshotChange, required=True)
        change = moves.Change(
            snapshot_id=snapshot_id,
            version=version_of(if_match, body.version),
            username=lead,
            product_upc=body.product_upc,
            reason=body.reason,
            reviewed=body.reviewed,
            qa_first=body.qa_first,
        )
        await moves.change(services.db, change, services.settings.qa_trust_lead, utcnow())
        if body.product_upc is not None:
            await relabel.rescore(services, snapshot_id)
        return await snapshot_response(services, snapshot_id)

    @post(
        "/{snapshot_id:int}/undo",
        operation_id="undo_snapshot_move",
        summary="A lead undoes a snapshot's last move",
        status_code=200,
        dependencies={"lead": Provide(lead_username, sync_to_thread=False)},
        operation_class=json_body_operation(
            UndoRequest, "Optional: the version it is based on (or If-Match), a reason."
        ),
        responses=error_responses(
            e400=f"A bad body, If-Match or id, or: {USER}",
            e404="No snapshot with this id",
            e409=f"{_CHANGED}; or no move to undo (never moved, or its last move is undone)",
            e428=_VERSION_NEEDED,
            e503=_BUSY,
        ),
    )
    async def undo(
        self,
        request: Request,
        services: Services,
        lead: str,
        snapshot_id: RowId,
        if_match: IfMatch = None,
    ) -> Response[Snapshot]:
        """Back to the product it had, with the QA state it held then (its verdicts count
        again); verdicts given since are kept in the history. Recorded as a move."""
        body = decode(await request.body(), UndoRequest, required=False)
        version = version_of(if_match, body.version)
        await moves.undo(services.db, snapshot_id, version, lead, body.reason, utcnow())
        await relabel.rescore(services, snapshot_id)
        return await snapshot_response(services, snapshot_id)

    @get(
        "/{snapshot_id:int}/history",
        operation_id="snapshot_history",
        summary="Every move of a snapshot, latest first",
        responses=error_responses(e400="A snapshot id out of range", e404="No such snapshot"),
    )
    async def history(self, services: Services, snapshot_id: RowId) -> SnapshotHistory:
        """Who moved it, when, from which product to which, why, and the QA status and
        verdicts it held then."""
        return await history.history(services, snapshot_id)


ROUTES = [LeadSnapshotController, LeadDeskController]

"""The lead's HTTP handlers: changes to a snapshot (PATCH /api/snapshots/{id}, its undo) and
its history under /api/snapshots, and the desk's reads under /api/lead."""

from __future__ import annotations

import re
from typing import Annotated, Literal, TypeVar

import msgspec
from litestar import Controller, Request, Response, get, patch, post
from litestar.di import Provide
from litestar.params import HeaderParameter, Parameter

from service.catalog.http import snapshot_response
from service.catalog.models import Snapshot
from service.clock import utcnow
from service.errors import InvalidInput, PreconditionRequired
from service.http.schema import MAX_ROW_ID, RowId, error_responses, json_body_operation
from service.http.users import qa_username
from service.lead import desk, moves, relabel
from service.lead.models import (
    MovePage,
    ProductTile,
    ProductView,
    SnapshotChange,
    SnapshotHistory,
    SuspectPage,
    UndoRequest,
)
from service.services import Services
from service.strict_json import duplicate_key

T = TypeVar("T", bound=msgspec.Struct)

UPC_PATTERN = r"^[0-9]{8,14}$"
_IF_MATCH = re.compile(r'\s*"?([0-9]{1,19})"?\s*')
_USER = "Missing or invalid `username` header (the lead: 1 to 64 letters, digits, . _ -)"
_VERSION_NEEDED = (
    "No version named: send If-Match with the snapshot's ETag (its version) or a `version` field"
)
_CHANGED = "The snapshot changed since that version (the body's `version` is the current one)"
_BUSY = "QA kept the snapshot busy through every retry; try again"


def lead_username(
    username: Annotated[
        str | None,
        HeaderParameter(name="username", required=False, description="The lead making it"),
    ] = None,
) -> str:
    """Who makes a change: the `username` header (as on the QA API), kept in its record."""
    return qa_username(username)


IfMatch = Annotated[
    str | None,
    HeaderParameter(
        name="if-match",
        required=False,
        description='The snapshot\'s ETag (its version, "3") that this change is based on',
    ),
]


def _decode(raw: bytes, struct: type[T], *, required: bool) -> T:
    """A JSON body read strictly (no lenient conversions, no repeated keys)."""
    if not raw.strip():
        if required:
            raise InvalidInput("the body must be a JSON object, got an empty body")
        return struct()
    try:
        value = msgspec.json.decode(raw, type=struct)
    except msgspec.DecodeError as exc:
        raise InvalidInput(f"bad body: {exc}") from None
    if problem := duplicate_key(raw):
        raise InvalidInput(f"bad body: {problem}")
    return value


def _version(if_match: str | None, field: int | None) -> int:
    header = None
    if if_match is not None and if_match.strip():
        found = _IF_MATCH.fullmatch(if_match)
        if found is None or int(found.group(1)) > MAX_ROW_ID:
            raise InvalidInput('If-Match must be the snapshot\'s ETag: its version, as "3"')
        header = int(found.group(1))
    if header is not None and field is not None and header != field:
        raise InvalidInput(f"If-Match ({header}) and version ({field}) disagree")
    version = header if header is not None else field
    if version is None:
        raise PreconditionRequired(
            "name the snapshot version this change is based on: If-Match with its ETag, or a "
            "version field (GET /api/snapshots/{id} gives both)"
        )
    return version


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
            f"already has; QA first for a settled snapshot; or: {_USER}",
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
        body = _decode(await request.body(), SnapshotChange, required=True)
        change = moves.Change(
            snapshot_id=snapshot_id,
            version=_version(if_match, body.version),
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
            e400=f"A bad body, If-Match or id, or: {_USER}",
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
        body = _decode(await request.body(), UndoRequest, required=False)
        version = _version(if_match, body.version)
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
        return await desk.history(services, snapshot_id)


Limit = Annotated[int, Parameter(ge=1, le=200, description="page size (1 to 200)")]
Cursor = Annotated[str | None, Parameter(description="next_cursor of the previous page")]


class LeadDeskController(Controller):
    path = "/api/lead"
    tags = ["lead"]

    @get(
        "/suspects",
        operation_id="lead_suspects",
        summary="Suspects no lead has reviewed yet, most suspicious first",
        responses=error_responses(
            e400="A bad limit, status, product or cursor", e404="No product with this UPC"
        ),
    )
    async def suspects(
        self,
        services: Services,
        limit: Limit = 48,
        status: Literal["pending", "match", "mismatch"] | None = None,
        product: Annotated[
            str | None,
            Parameter(
                pattern=UPC_PATTERN,
                description="a UPC: only snapshots attributed to it or suggested for it",
            ),
        ] = None,
        cursor: Cursor = None,
    ) -> SuspectPage:
        """Each with its photo, its product's packshot, the suggested product's packshot and
        score, and its QA votes."""
        return await desk.suspects(services, limit=limit, status=status, upc=product, cursor=cursor)

    @get(
        "/products",
        operation_id="lead_search_products",
        summary="Products by name or UPC, with their packshots",
        responses=error_responses(e400="A bad limit, or q over 200 characters"),
    )
    async def search_products(
        self,
        services: Services,
        q: Annotated[str, Parameter(max_length=200, description="part of a name, or a UPC")] = "",
        limit: Annotated[int, Parameter(ge=1, le=50)] = 12,
    ) -> list[ProductTile]:
        """Names containing `q` (any case) and UPCs starting with it, by name."""
        return await desk.search_products(services, q, limit)

    @get(
        "/products/{upc:str}",
        operation_id="lead_product_view",
        summary="A product on the desk: packshot, snapshots by status, confusions",
        responses=error_responses(e400="A bad UPC or limit", e404="No product with this UPC"),
    )
    async def product_view(
        self,
        services: Services,
        upc: Annotated[str, Parameter(pattern=UPC_PATTERN, description="the product's UPC")],
        per_status: Annotated[int, Parameter(ge=0, le=100)] = 24,
    ) -> ProductView:
        """The products it is most often confused with: by how many snapshots of either
        look like the other, with the most suspicious as examples."""
        return await desk.product_view(services, upc, per_status, confusions=6, examples=6)

    @get(
        "/moves",
        operation_id="lead_recent_moves",
        summary="Recent moves of every snapshot, latest first",
        responses=error_responses(e400="A bad limit or cursor"),
    )
    async def recent_moves(
        self, services: Services, limit: Limit = 50, cursor: Cursor = None
    ) -> MovePage:
        return await desk.recent_moves(services, limit, cursor)


ROUTES = [LeadSnapshotController, LeadDeskController]

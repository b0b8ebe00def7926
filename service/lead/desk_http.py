"""The lead's desk reads under /api/lead: suspects, product search, one product's view and
the recent moves."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get
from litestar.params import Parameter

from service.http.schema import error_responses
from service.lead import desk, history
from service.lead.models import MovePage, ProductTile, ProductView, SuspectPage
from service.services import Services

UPC_PATTERN = r"^[0-9]{8,14}$"


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
        return await history.recent_moves(services, limit, cursor)

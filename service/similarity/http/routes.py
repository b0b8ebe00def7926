"""Similarity HTTP handlers: neighbours, suggestions, search under /api; suspects under /qa."""

from __future__ import annotations

from typing import Annotated, Literal

from litestar import Controller, get, post
from litestar.di import Provide
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from service.http.schema import UPC, RowId, error_responses
from service.http.uploads import UPLOAD_ERROR_HANDLERS, check_upload_size
from service.http.users import qa_username
from service.image_info import inspect_upload
from service.services import Services
from service.similarity.http import lookups
from service.similarity.http.models import (
    SearchResults,
    SearchUpload,
    SimilarProducts,
    SimilarSnapshots,
    Suggestions,
    Suspect,
)

K = Annotated[int, Parameter(ge=1, le=100, description="how many results (1 to 100)")]


_K_ERROR = "k out of range (1 to 100), or a snapshot id out of range"
_NOT_EMBEDDED = "The stored image could not be embedded (unreadable blob); retry later"


class SimilarityController(Controller):
    path = "/api"
    tags = ["similarity"]

    @get(
        "/snapshots/{snapshot_id:int}/similar",
        operation_id="similar_snapshots",
        summary="Snapshots that look most like this one",
        responses=error_responses(
            e400=_K_ERROR, e404="No snapshot with this id", e503=_NOT_EMBEDDED
        ),
    )
    async def similar_snapshots(
        self, services: Services, snapshot_id: RowId, k: K = 10
    ) -> SimilarSnapshots:
        """404 for an unknown snapshot."""
        return await lookups.similar_snapshots(services, snapshot_id, k)

    @get(
        "/snapshots/{snapshot_id:int}/suggestions",
        operation_id="snapshot_suggestions",
        summary="Which products this snapshot most likely shows",
        responses=error_responses(
            e400=_K_ERROR, e404="No snapshot with this id", e503=_NOT_EMBEDDED
        ),
    )
    async def suggestions(self, services: Services, snapshot_id: RowId, k: K = 3) -> Suggestions:
        """A kNN vote weighted by similarity over the nearest reference images and other
        snapshots (QA-confirmed snapshots count double, mismatched ones not at all)."""
        return await lookups.suggestions(services, snapshot_id, k)

    @get(
        "/products/{upc:str}/similar",
        operation_id="similar_products",
        summary="Products whose reference images look alike",
        responses=error_responses(
            e400=_K_ERROR, e404="No product with this UPC", e503=_NOT_EMBEDDED
        ),
    )
    async def similar_products(self, services: Services, upc: UPC, k: K = 10) -> SimilarProducts:
        """404 for an unknown product."""
        return await lookups.similar_products(services, upc, k)

    @post(
        "/search",
        operation_id="search_by_image",
        summary="Nearest products and snapshots for an uploaded photo",
        before_request=check_upload_size,
        exception_handlers=UPLOAD_ERROR_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=None,  # checked against MAX_UPLOAD_BYTES by check_upload_size
        status_code=200,
        responses=error_responses(
            e400="Not a readable image of an accepted format, or k out of range",
            e411="No Content-Length header",
            e413="Over MAX_UPLOAD_BYTES or MAX_IMAGE_PIXELS",
        ),
    )
    async def search(
        self,
        services: Services,
        data: Annotated[SearchUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        k: K = 10,
    ) -> SearchResults:
        """400 if the file is not an image; 413 if it is too large."""
        image = await data.image.read()
        settings = services.settings
        await inspect_upload(image, settings.max_upload_bytes, settings.max_image_pixels)
        return await lookups.search(services, image, k)


@get(
    "/qa/suspects",
    operation_id="qa_suspects",
    summary="Snapshots most likely attributed to the wrong product",
    tags=["qa", "similarity"],
    dependencies={"qa_user": Provide(qa_username, sync_to_thread=False)},
    responses=error_responses(e400="Missing or invalid username header, or a bad limit or status"),
)
async def qa_suspects(
    services: Services,
    qa_user: str,
    limit: Annotated[int, Parameter(ge=1, le=1000)] = 50,
    status: Literal["pending", "match", "mismatch"] | None = None,
) -> list[Suspect]:
    """Most suspicious first, each with its best suggested product and a score; optionally
    only snapshots of one QA status. Scores are kept fresh in the background."""
    return await lookups.suspect_list(services, limit, status)


ROUTES = [SimilarityController, qa_suspects]

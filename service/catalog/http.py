"""Catalog HTTP handlers: products and snapshots under /api."""

from __future__ import annotations

import re
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter

from service.catalog import store
from service.catalog.models import (
    Product,
    ProductCreate,
    ProductPage,
    ProductRef,
    Snapshot,
    SnapshotCreate,
    Votes,
)
from service.clock import as_utc
from service.db import Row
from service.errors import InvalidInput
from service.http.schema import MAX_ROW_ID, RowId, error_responses
from service.http.uploads import UPLOAD_ERROR_HANDLERS, check_upload_size
from service.qa.consensus import reported
from service.services import Services

_UPLOAD_ERRORS = {
    "e400": "Not a readable image of an accepted format (JPEG, PNG, WEBP, GIF), or bad fields",
    "e411": "No Content-Length header",
    "e413": "Over MAX_UPLOAD_BYTES or MAX_IMAGE_PIXELS",
}

_CURSOR = re.compile(r"[0-9]{1,19}")


def _product(services: Services, row: Row) -> Product:
    return Product(
        id=row["id"],
        upc=row["upc"],
        name=row["name"],
        image_url=services.blobs.url(row["image_key"]),
        image_width=row["image_width"],
        image_height=row["image_height"],
        image_format=row["image_format"],
        snapshot_count=row["snapshot_count"],
        created_at=as_utc(row["created_at"]),
    )


def _snapshot(services: Services, row: Row) -> Snapshot:
    confidence, settled_by = reported(row["status"], row["posterior"], row["settled_by"])
    return Snapshot(
        snapshot_id=row["id"],
        product=ProductRef(
            id=row["product_id"],
            upc=row["product_upc"],
            name=row["product_name"],
            image_url=services.blobs.url(row["product_image_key"]),
        ),
        image_url=services.blobs.url(row["image_key"]),
        image_width=row["image_width"],
        image_height=row["image_height"],
        image_format=row["image_format"],
        source=row["source"],
        votes=Votes(match=row["votes_match"], mismatch=row["votes_mismatch"]),
        status=row["status"],
        created_at=as_utc(row["created_at"]),
        resolved_at=as_utc(row["resolved_at"]),
        confidence=None if confidence is None else round(confidence, 6),
        settled_by=settled_by,
        version=row["version"],
        moves=row["moves"],
        reviewed_by=row["lead_reviewed_by"],
        reviewed_at=as_utc(row["lead_reviewed_at"]),
        qa_first=row["qa_first_at"] is not None,
    )


async def snapshot_response(services: Services, snapshot_id: int) -> Response[Snapshot]:
    """One snapshot as GET /api/snapshots/{id} answers it, with its version as the ETag (what
    a lead's change names in If-Match)."""
    body = _snapshot(services, await store.get_snapshot(services, snapshot_id))
    return Response(body, headers={"ETag": f'"{body.version}"'})


def _cursor(raw: str | None) -> int:
    if raw is None or raw == "":
        return 0
    # ASCII digits only (str.isdigit takes "²"), and within a row id (SQLite overflows past it)
    if not _CURSOR.fullmatch(raw) or int(raw) > MAX_ROW_ID:
        raise InvalidInput("cursor must be a value returned as next_cursor")
    return int(raw)


class ProductController(Controller):
    path = "/api/products"
    tags = ["catalog"]

    @post(
        "/",
        operation_id="create_product",
        summary="Add a product with its reference image",
        before_request=check_upload_size,
        exception_handlers=UPLOAD_ERROR_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=None,  # checked against MAX_UPLOAD_BYTES by check_upload_size
        status_code=201,
        responses=error_responses(**_UPLOAD_ERRORS, e409="A product with this UPC exists"),
    )
    async def create_product(
        self,
        services: Services,
        data: Annotated[ProductCreate, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Product:
        """409 if the UPC exists; 400 if the file is not an image; 413 if it is too large."""
        image = await data.image.read()
        row = await store.create_product(services, upc=data.upc, name=data.name, image=image)
        return _product(services, row)

    @get(
        "/",
        operation_id="list_products",
        summary="List products (keyset pagination)",
        responses=error_responses(
            e400=f"limit out of range (1 to {store.MAX_PAGE}), or a bad cursor"
        ),
    )
    async def list_products(
        self,
        services: Services,
        limit: Annotated[int, Parameter(ge=1, le=store.MAX_PAGE)] = 50,
        cursor: Annotated[
            str | None, Parameter(description="next_cursor of the previous page")
        ] = None,
    ) -> ProductPage:
        page = await store.list_products(services, _cursor(cursor), limit)
        return ProductPage(
            items=[_product(services, row) for row in page.rows],
            next_cursor=str(page.next_after_id) if page.next_after_id is not None else None,
        )

    @get(
        "/{upc:str}",
        operation_id="get_product",
        summary="One product by UPC",
        responses=error_responses(e404="No product with this UPC"),
    )
    async def get_product(self, services: Services, upc: str) -> Product:
        return _product(services, await store.get_product(services, upc))

    @post(
        "/{upc:str}/snapshots",
        operation_id="create_snapshot",
        summary="Add a snapshot (shelf photo) attributed to a product",
        before_request=check_upload_size,
        exception_handlers=UPLOAD_ERROR_HANDLERS,  # type: ignore[arg-type]
        request_max_body_size=None,
        status_code=201,
        responses=error_responses(**_UPLOAD_ERRORS, e404="No product with this UPC"),
    )
    async def create_snapshot(
        self,
        services: Services,
        upc: str,
        data: Annotated[SnapshotCreate, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Snapshot:
        """404 for an unknown product; 400 if the file is not an image; 413 if too large."""
        product_id = await store.product_id(services, upc)
        image = await data.image.read()
        added = await store.add_snapshot(
            services,
            product_id=product_id,
            image=image,
            source=data.filename or data.image.filename or None,
        )
        return _snapshot(services, await store.get_snapshot(services, added.snapshot_id))


class SnapshotController(Controller):
    path = "/api/snapshots"
    tags = ["catalog"]

    @get(
        "/{snapshot_id:int}",
        operation_id="get_snapshot",
        summary="One snapshot with its votes",
        responses=error_responses(
            e400="A snapshot id out of range", e404="No snapshot with this id"
        ),
    )
    async def get_snapshot(self, services: Services, snapshot_id: RowId) -> Response[Snapshot]:
        """The ETag header is the snapshot's version (If-Match of a lead's change)."""
        return await snapshot_response(services, snapshot_id)

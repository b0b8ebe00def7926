"""Catalog rules over the database and the blob store, shared by the API, the importer and
the demo seeder. Image decoding and blob writes run in threads, off the event loop."""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass

from service.catalog import hooks
from service.clock import utcnow
from service.db import IntegrityError, Row
from service.errors import Conflict, NotFound
from service.image_info import ImageInfo, inspect_upload
from service.services import Services

MAX_PAGE = 500


async def store_image(services: Services, data: bytes) -> tuple[ImageInfo, str]:
    """Check the bytes are an acceptable image, then store them; returns (info, blob key)."""
    settings = services.settings
    info = await inspect_upload(data, settings.max_upload_bytes, settings.max_image_pixels)
    key = await asyncio.to_thread(services.blobs.put, data, info.extension, info.content_type)
    return info, key


async def get_product(services: Services, upc: str) -> Row:
    row = await services.db.fetch_one("catalog_product_by_upc", {"upc": upc})
    if row is None:
        raise NotFound(f"no product with UPC {upc}")
    return row


async def create_product(
    services: Services, *, upc: str, name: str, image: bytes, notify: bool = True
) -> Row:
    """A new product. The catalog's listeners hear of it (`hooks`: similarity embeds it);
    `notify=False` (bulk loads) leaves that to their background catch-up, in batches."""
    if await services.db.fetch_value("catalog_product_id", {"upc": upc}) is not None:
        raise Conflict(f"a product with UPC {upc} already exists")
    info, key = await store_image(services, image)
    params = {
        "upc": upc,
        "name": name,
        "image_key": key,
        "image_width": info.width,
        "image_height": info.height,
        "image_format": info.format,
        "now": utcnow(),
    }
    try:
        await services.db.execute("catalog_insert_product", params)
    except IntegrityError:  # a concurrent request created it first
        raise Conflict(f"a product with UPC {upc} already exists") from None
    row = await get_product(services, upc)
    if notify:  # listeners never raise: what they cannot do, their catch-up does
        await hooks.product_stored(services, row["id"], image)
    return row


@dataclass(frozen=True, slots=True)
class Page:
    rows: list[Row]
    next_after_id: int | None


async def list_products(services: Services, after_id: int, limit: int) -> Page:
    limit = max(1, min(limit, MAX_PAGE))
    rows = await services.db.fetch_all(
        "catalog_products_page", {"after_id": after_id, "limit": limit + 1}
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(rows, rows[-1]["id"] if more else None)


@dataclass(frozen=True, slots=True)
class AddedSnapshot:
    snapshot_id: int
    created: bool  # False: an identical snapshot of this product existed (dedupe)


async def add_snapshot(
    services: Services,
    *,
    product_id: int,
    image: bytes,
    source: str | None = None,
    dedupe: bool = False,
    notify: bool = True,
) -> AddedSnapshot:
    """Store a snapshot of a product. With `dedupe`, identical bytes already attributed to
    the same product are not added again (the importer's idempotence); with `notify=False`
    (bulk loads) the listeners are not told (their catch-up finds it)."""
    settings = services.settings
    info = await inspect_upload(image, settings.max_upload_bytes, settings.max_image_pixels)
    if dedupe:
        existing = await services.db.fetch_value(
            "catalog_snapshot_by_hash", {"content_hash": info.sha256, "product_id": product_id}
        )
        if existing is not None:
            return AddedSnapshot(int(existing), created=False)
    key = await asyncio.to_thread(services.blobs.put, image, info.extension, info.content_type)
    result = await services.db.execute(
        "catalog_insert_snapshot",
        {
            "product_id": product_id,
            "image_key": key,
            "image_width": info.width,
            "image_height": info.height,
            "image_format": info.format,
            "content_hash": info.sha256,
            "source": source[:500] if source else None,
            "rand_key": random.random(),
            "now": utcnow(),
        },
    )
    assert result.lastrowid is not None
    snapshot_id = int(result.lastrowid)
    if notify:
        await hooks.snapshot_stored(services, snapshot_id, image)  # listeners never raise
    return AddedSnapshot(snapshot_id, created=True)


async def product_id(services: Services, upc: str) -> int:
    found = await services.db.fetch_value("catalog_product_id", {"upc": upc})
    if found is None:
        raise NotFound(f"no product with UPC {upc}")
    return int(found)


async def get_snapshot(services: Services, snapshot_id: int) -> Row:
    row = await services.db.fetch_one("catalog_snapshot_by_id", {"snapshot_id": snapshot_id})
    if row is None:
        raise NotFound(f"no snapshot with id {snapshot_id}")
    return row

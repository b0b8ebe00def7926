"""Catalog test helpers: small images in any format, and upload calls."""

from __future__ import annotations

import io
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image


def image_bytes(
    size: tuple[int, int] = (40, 30),
    fmt: str = "JPEG",
    colour: tuple[int, int, int] = (200, 30, 30),
) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, fmt)
    return buffer.getvalue()


def create_product(
    client: TestClient[Litestar],
    upc: str = "012345678905",
    name: str = "Sea Salt Chips",
    image: bytes | None = None,
    filename: str = "pack.jpg",
) -> Any:
    return client.post(
        "/api/products",
        data={"upc": upc, "name": name},
        files={"image": (filename, image if image is not None else image_bytes(), "image/jpeg")},
    )


def add_snapshot(
    client: TestClient[Litestar], upc: str, image: bytes | None = None, **data: str
) -> Any:
    return client.post(
        f"/api/products/{upc}/snapshots",
        data=data or None,
        files={"image": ("shelf.jpg", image if image is not None else image_bytes(), "image/jpeg")},
    )

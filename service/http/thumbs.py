"""Thumbnails of stored images at one fixed size, for grids of many pictures (the lead's
desk): `GET /thumbs/<key>` answers a JPEG of at most THUMB_SIZE pixels a side.

A thumbnail is made once per process from the stored image (JPEGs are decoded at a reduced
scale, so a phone photo costs little) and kept in a bounded in-memory cache; its URL carries
the image's content key, so browsers may keep it for a year. Like `/images/...`, no API key
is needed: content keys are handed out only by keyed answers.
"""

from __future__ import annotations

import asyncio
import io
import threading
from collections import OrderedDict

from litestar import Response, get
from litestar.openapi.datastructures import ResponseSpec
from PIL import Image, ImageOps, UnidentifiedImageError

from service.errors import NotFound
from service.http.schema import ErrorBody
from service.imaging import TooManyPixels, open_image
from service.services import Services
from service.storage.base import BlobNotFound, InvalidKey

THUMB_SIZE = 240
QUALITY = 80
CACHE_BYTES = 32 * 1024 * 1024


class _Cache:
    """Least recently used thumbnails, up to `limit` bytes in all."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._items: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()

    def get(self, key: str) -> bytes | None:
        with self._lock:
            data = self._items.get(key)
            if data is not None:
                self._items.move_to_end(key)
            return data

    def put(self, key: str, data: bytes) -> None:
        with self._lock:
            if key in self._items:
                return
            self._items[key] = data
            self._size += len(data)
            while self._size > self.limit and self._items:
                _, dropped = self._items.popitem(last=False)
                self._size -= len(dropped)


_CACHE = _Cache(CACHE_BYTES)


def thumbnail_url(public_url: str, key: str) -> str:
    return f"{public_url}/thumbs/{key}"


def _on_white(image: Image.Image) -> Image.Image:
    """RGB, with any transparency laid on white (a packshot's usual background)."""
    if image.mode in ("RGBA", "LA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, (255, 255, 255))
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image if image.mode == "RGB" else image.convert("RGB")


def make_thumbnail(data: bytes, max_pixels: int, size: int = THUMB_SIZE) -> bytes:
    """A JPEG of the image within size x size, upright (EXIF orientation applied)."""
    with open_image(data, max_pixels) as image:
        image.draft("RGB", (size, size))  # JPEG: decode at 1/2, 1/4 or 1/8 scale
        upright = ImageOps.exif_transpose(image)
        upright.thumbnail((size, size), Image.Resampling.BILINEAR, reducing_gap=2.0)
        upright = _on_white(upright)
        out = io.BytesIO()
        upright.save(out, format="JPEG", quality=QUALITY, optimize=False)
    return out.getvalue()


@get(
    "/thumbs/{key:path}",
    operation_id="get_thumbnail",
    summary="A stored image as a small JPEG (at most 240 pixels a side), by content key",
    tags=["images"],
    media_type="image/jpeg",
    responses={
        404: ResponseSpec(
            ErrorBody,
            description="No image with this key (or a malformed key, or not a readable image)",
            generate_examples=False,
        ),
    },
)
async def get_thumbnail(key: str, services: Services) -> Response[bytes]:
    key = key.lstrip("/")
    data = _CACHE.get(key)
    if data is None:
        try:
            original = await asyncio.to_thread(services.blobs.get, key)
            data = await asyncio.to_thread(
                make_thumbnail, original, services.settings.max_image_pixels
            )
        except (BlobNotFound, InvalidKey):
            raise NotFound(f"no image with key {key!r}") from None
        except (UnidentifiedImageError, TooManyPixels, OSError, ValueError):
            raise NotFound(f"no readable image with key {key!r}") from None
        _CACHE.put(key, data)
    return Response(
        data,
        media_type="image/jpeg",
        headers={"Cache-Control": "public, max-age=31536000, immutable"},
    )

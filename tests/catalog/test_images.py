"""Image checks on their own: formats, corrupt files, limits."""

from __future__ import annotations

import hashlib
import io

import pytest
from PIL import Image

from service.errors import InvalidInput, TooLarge
from service.image_info import inspect_image
from tests.catalog.conftest import image_bytes

LIMIT = 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("fmt", "extension", "content_type"),
    [("JPEG", "jpg", "image/jpeg"), ("PNG", "png", "image/png"), ("WEBP", "webp", "image/webp"),
     ("GIF", "gif", "image/gif")],
)  # fmt: skip
def test_accepted_formats(fmt: str, extension: str, content_type: str) -> None:
    data = image_bytes((33, 21), fmt)
    info = inspect_image(data, LIMIT, 10_000)
    assert (info.width, info.height, info.format) == (33, 21, fmt)
    assert (info.extension, info.content_type) == (extension, content_type)
    assert info.sha256 == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("fmt", ["BMP", "TIFF"])
def test_formats_browsers_do_not_show_are_refused(fmt: str) -> None:
    with pytest.raises(InvalidInput, match=r"not a readable image \(JPEG, PNG, WebP or GIF\)"):
        inspect_image(image_bytes(fmt=fmt), LIMIT, 10_000)


@pytest.mark.parametrize(
    "data", [b"", b"not an image", image_bytes()[:200], b"\x89PNG\r\n\x1a\n" + b"\0" * 50]
)
def test_unreadable_files_are_refused(data: bytes) -> None:
    with pytest.raises(InvalidInput):
        inspect_image(data, LIMIT, 10_000)


def test_byte_limit() -> None:
    data = image_bytes()
    with pytest.raises(TooLarge):
        inspect_image(data, len(data) - 1, 10_000)
    assert inspect_image(data, len(data), 10_000).width == 40


def test_pixel_limit_is_checked_before_decoding() -> None:
    data = image_bytes((100, 100), "PNG")
    with pytest.raises(TooLarge, match="pixels"):
        inspect_image(data, LIMIT, 9_999)
    assert inspect_image(data, LIMIT, 10_000).height == 100


def test_a_phone_jpeg_with_a_multi_picture_header_is_accepted_as_a_jpeg() -> None:
    first, second = Image.new("RGB", (40, 30), "navy"), Image.new("RGB", (40, 30), "gold")
    out = io.BytesIO()
    first.save(out, "MPO", save_all=True, append_images=[second])
    info = inspect_image(out.getvalue(), 1_000_000, 1_000_000)
    assert (info.format, info.extension, info.content_type) == ("JPEG", "jpg", "image/jpeg")

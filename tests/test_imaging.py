"""Untrusted bytes only ever reach the decoders of the formats we serve."""

import io

import pytest
from PIL import BmpImagePlugin, Image, UnidentifiedImageError

from service.imaging import TooManyPixels, open_image


def _bytes(fmt: str, size: tuple[int, int] = (8, 6)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buffer, fmt)
    return buffer.getvalue()


def test_other_formats_are_never_parsed(monkeypatch: pytest.MonkeyPatch) -> None:
    def must_not_run(self: object) -> None:
        raise AssertionError("the BMP decoder parsed untrusted input")

    monkeypatch.setattr(BmpImagePlugin.BmpImageFile, "_open", must_not_run)
    with pytest.raises(UnidentifiedImageError):
        open_image(_bytes("BMP"), 1_000)


def test_pixel_limit_is_checked_from_the_header() -> None:
    with open_image(_bytes("PNG", (8, 6)), 48) as image:
        assert image.size == (8, 6)
    with pytest.raises(TooManyPixels, match="8x6 is more than 47 pixels"):
        open_image(_bytes("PNG", (8, 6)), 47)

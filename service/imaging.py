"""Opening untrusted image bytes, shared by uploads, job downloads and embedding.

Only the formats browsers display are parsed (Pillow's other decoders never see our input),
and the pixel count is checked from the header before any pixel is decoded. The limit is
ours (MAX_IMAGE_PIXELS, capped at Pillow's own default) rather than the process-wide
`Image.MAX_IMAGE_PIXELS`, and no warning filters are touched: they are process-wide too.
"""

from __future__ import annotations

import io

from PIL import Image

# Pillow format name -> (file extension, content type).
FORMATS: dict[str, tuple[str, str]] = {
    "JPEG": ("jpg", "image/jpeg"),
    "PNG": ("png", "image/png"),
    "WEBP": ("webp", "image/webp"),
    "GIF": ("gif", "image/gif"),
}
FORMAT_NAMES = "JPEG, PNG, WebP or GIF"


def format_of(image: Image.Image) -> str:
    """The FORMATS name of an opened image. Pillow calls a JPEG with a multi-picture (MPF)
    header, as many phones write them, "MPO": it is a JPEG file all the same."""
    name = image.format or ""
    return "JPEG" if name == "MPO" else name


class TooManyPixels(ValueError):
    """The header announces more pixels than the limit."""

    def __init__(self, width: int, height: int, limit: int) -> None:
        super().__init__(f"{width}x{height} is more than {limit} pixels (MAX_IMAGE_PIXELS)")
        self.width, self.height, self.limit = width, height, limit


def open_image(data: bytes, max_pixels: int) -> Image.Image:
    """Open `data` (header only) as one of FORMATS; the caller decodes and closes it.

    Raises `PIL.UnidentifiedImageError` for any other format and `TooManyPixels` when the
    image is larger than `max_pixels`.
    """
    image = Image.open(io.BytesIO(data), formats=tuple(FORMATS))
    width, height = image.size
    if width * height > max_pixels:
        image.close()
        raise TooManyPixels(width, height, max_pixels)
    return image

"""The generated demo catalog: packaging images and photo-like snapshots, deterministic.

20 products, each a 256x256 "pack" with its own colour, shape and printed name; 50 snapshots
each, made by placing a pack on a shelf-like background with random crop, scale, rotation,
lighting, colour cast, blur and JPEG noise. About 5% of snapshots show a different product
than the one they are attributed to; `DemoSnapshot.true_index` records which.
"""

from __future__ import annotations

import colorsys
import io
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

PRODUCTS = 20
SNAPSHOTS_PER_PRODUCT = 50
WRONG_SHARE = 0.05
PACK = 256
SNAPSHOT = 224

_BRANDS = [
    "Sunny Crisps", "Blue Fizz", "Oat Crunch", "Maple Bites", "Zest Cola", "Choco Loops",
    "Green Leaf Tea", "Salty Waves", "Berry Pop", "Nutty Bar", "Lemon Drop", "Ocean Chips",
    "Spicy Twist", "Golden Flakes", "Minty Fresh", "Cocoa Dream", "Peach Nectar",
    "Rice Puffs", "Tomato Soup", "Honey Rings",
]  # fmt: skip
_SHAPES = ["circle", "square", "triangle", "diamond", "star", "hexagon", "stripes", "ring"]


@dataclass(frozen=True, slots=True)
class DemoProduct:
    index: int
    upc: str
    name: str
    colour: tuple[int, int, int]
    accent: tuple[int, int, int]
    shape: str


@dataclass(frozen=True, slots=True)
class DemoSnapshot:
    product_index: int  # the product it is attributed to
    true_index: int  # the product it really shows
    number: int  # 0..49 within the attributed product


def upc_with_check_digit(body: str) -> str:
    """A UPC-A (12 digits) from 11: the standard check digit appended."""
    odd = sum(int(d) for d in body[0::2])
    even = sum(int(d) for d in body[1::2])
    return body + str((10 - (odd * 3 + even) % 10) % 10)


def _rgb(h: float, s: float, v: float) -> tuple[int, int, int]:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, s, v)
    return round(r * 255), round(g * 255), round(b * 255)


def products(count: int = PRODUCTS) -> list[DemoProduct]:
    """Distinct hues around the colour wheel (alternating brightness), shapes and names."""
    found = []
    for i in range(count):
        hue = (i * 0.381966) % 1.0  # golden-angle steps: neighbours in index differ most
        colour = _rgb(hue, 0.75 if i % 2 else 0.95, 0.95 if i % 3 else 0.7)
        accent = _rgb(hue + 0.5, 0.6, 1.0 if i % 2 else 0.35)
        found.append(
            DemoProduct(
                index=i,
                upc=upc_with_check_digit(f"0{71000 + i:05d}{10001 + 37 * i:05d}"),
                name=_BRANDS[i % len(_BRANDS)],
                colour=colour,
                accent=accent,
                shape=_SHAPES[i % len(_SHAPES)],
            )
        )
    return found


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def _polygon(sides: int, cx: float, cy: float, r: float, turn: float = 0.0) -> list[tuple]:
    return [
        (cx + r * math.cos(turn + 2 * math.pi * k / sides),
         cy + r * math.sin(turn + 2 * math.pi * k / sides))
        for k in range(sides)
    ]  # fmt: skip


def _draw_shape(draw: ImageDraw.ImageDraw, shape: str, colour: tuple[int, int, int]) -> None:
    cx, cy, r = PACK / 2, PACK * 0.42, PACK * 0.24
    if shape == "circle":
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif shape == "square":
        draw.rectangle((cx - r, cy - r, cx + r, cy + r), fill=colour)
    elif shape == "triangle":
        draw.polygon(_polygon(3, cx, cy, r * 1.2, -math.pi / 2), fill=colour)
    elif shape == "diamond":
        draw.polygon(_polygon(4, cx, cy, r * 1.2), fill=colour)
    elif shape == "hexagon":
        draw.polygon(_polygon(6, cx, cy, r * 1.1), fill=colour)
    elif shape == "star":
        points = []
        for k in range(10):
            radius = r * 1.25 if k % 2 == 0 else r * 0.5
            angle = -math.pi / 2 + math.pi * k / 5
            points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        draw.polygon(points, fill=colour)
    elif shape == "stripes":
        for k in range(5):
            y = cy - r + k * r * 0.45
            draw.rectangle((PACK * 0.12, y, PACK * 0.88, y + r * 0.22), fill=colour)
    else:  # ring
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), outline=colour, width=int(r * 0.35))


def pack_image(product: DemoProduct) -> Image.Image:
    """The product's packaging: its colour, its shape, its name printed across the bottom."""
    image = Image.new("RGB", (PACK, PACK), product.colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((6, 6, PACK - 7, PACK - 7), outline=product.accent, width=5)
    _draw_shape(draw, product.shape, product.accent)
    band_top = int(PACK * 0.72)
    draw.rectangle((0, band_top, PACK, PACK), fill=(250, 250, 245))
    font = _font(26)
    words = product.name.split()
    for line, word in enumerate(words[:2]):
        width = draw.textlength(word.upper(), font=font)
        draw.text(((PACK - width) / 2, band_top + 6 + line * 30), word.upper(), font=font,
                  fill=(20, 20, 20))  # fmt: skip
    draw.text((10, 10), product.upc, font=_font(12), fill=product.accent)
    return image


def _shelf(rng: random.Random, size: int) -> Image.Image:
    """A shelf-like background: a wall tone, shelf edges, neighbouring packs in other colours."""
    base = tuple(rng.randint(150, 215) for _ in range(3))
    shelf = Image.new("RGB", (size, size), base)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(shelf)
    x = rng.randint(-40, 0)
    while x < size:
        width = rng.randint(50, 110)
        colour = tuple(rng.randint(30, 230) for _ in range(3))
        draw.rectangle((x, rng.randint(0, 30), x + width - 4, size), fill=colour)  # type: ignore[arg-type]
        x += width
    for y in (rng.randint(size // 2, size - 40), rng.randint(0, 25)):
        draw.rectangle((0, y, size, y + rng.randint(8, 16)), fill=(90, 90, 95))
        draw.line((0, y, size, y), fill=(230, 230, 230), width=2)  # a glint on the edge
    return shelf


def snapshot_image(pack: Image.Image, rng: random.Random) -> Image.Image:
    """One photo-like view of a pack."""
    canvas = int(PACK * 1.6)
    scene = _shelf(rng, canvas)
    scale = rng.uniform(0.55, 0.95)
    size = int(PACK * scale)
    item = pack.resize((size, size), Image.Resampling.BILINEAR).convert("RGBA")
    item = item.rotate(rng.uniform(-14, 14), resample=Image.Resampling.BILINEAR, expand=True)
    ox = (canvas - item.width) // 2 + rng.randint(-30, 30)
    oy = (canvas - item.height) // 2 + rng.randint(-30, 30)
    scene.paste(item, (ox, oy), item)
    # A crop around the pack, sometimes cutting into it, then the camera's output size.
    cx, cy = ox + item.width / 2, oy + item.height / 2
    half = item.width / 2 * rng.uniform(0.85, 1.3)
    box = (cx - half + rng.uniform(-15, 15), cy - half + rng.uniform(-15, 15))
    crop = scene.crop((int(box[0]), int(box[1]), int(box[0] + 2 * half), int(box[1] + 2 * half)))
    image = crop.resize((SNAPSHOT, SNAPSHOT), Image.Resampling.BILINEAR)
    # Lighting, colour cast, focus.
    image = ImageEnhance.Brightness(image).enhance(rng.uniform(0.6, 1.3))
    image = ImageEnhance.Contrast(image).enhance(rng.uniform(0.7, 1.2))
    image = ImageEnhance.Color(image).enhance(rng.uniform(0.7, 1.2))
    cast = Image.new("RGB", image.size, tuple(rng.randint(0, 255) for _ in range(3)))  # type: ignore[arg-type]
    image = Image.blend(image, cast, rng.uniform(0.0, 0.15))
    radius = rng.choice([0, 0, 0.6, 1.0, 1.6])
    if radius:
        image = image.filter(ImageFilter.GaussianBlur(radius))
    return image


def jpeg(image: Image.Image, quality: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


def png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=False)
    return buffer.getvalue()


def plan(
    count: int = PRODUCTS, per_product: int = SNAPSHOTS_PER_PRODUCT, seed: int = 7
) -> list[DemoSnapshot]:
    """Which snapshots exist and which of them are attributed to the wrong product."""
    rng = random.Random(seed)
    total = count * per_product
    wrong = set(rng.sample(range(total), round(total * WRONG_SHARE)))
    snapshots = []
    for n in range(total):
        attributed, number = divmod(n, per_product)
        true = attributed
        if n in wrong:
            true = rng.choice([i for i in range(count) if i != attributed])
        snapshots.append(DemoSnapshot(attributed, true, number))
    return snapshots


def render(snapshot: DemoSnapshot, packs: list[Image.Image], seed: int = 7) -> bytes:
    """The JPEG bytes of one snapshot: the same inputs always give the same bytes."""
    rng = random.Random(f"{seed}/{snapshot.product_index}/{snapshot.number}")
    return jpeg(snapshot_image(packs[snapshot.true_index], rng), quality=rng.randint(70, 90))


def render_all(
    snapshots: list[DemoSnapshot], packs: list[Image.Image], seed: int = 7
) -> Iterator[bytes]:
    for snapshot in snapshots:
        yield render(snapshot, packs, seed)

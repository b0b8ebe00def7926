"""A deterministic catalog of look-alike packs and shelf photos of them, for quality checks.

Products come in families that share a pack colour and layout and differ in one detail (the
flavour band's colour, the emblem's shape, or the printed name), which is what makes real
catalogs hard. A reference image is the pack centred on white; a snapshot is the pack cut from
a cluttered shelf with a random crop, scale, tilt, lighting, colour cast, blur and JPEG noise.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

PACK_W, PACK_H = 200, 300

BASES = [
    (200, 30, 40),
    (30, 70, 170),
    (245, 200, 40),
    (40, 140, 70),
    (240, 240, 230),
    (120, 50, 130),
    (250, 120, 30),
    (20, 20, 25),
    (150, 200, 230),
    (110, 70, 40),
]
ACCENTS = [
    (250, 250, 250),
    (230, 40, 40),
    (40, 160, 60),
    (250, 210, 0),
    (30, 60, 200),
    (240, 130, 180),
    (0, 0, 0),
    (140, 90, 40),
]
SHAPES = ["circle", "triangle", "square", "diamond", "star"]
WORDS = ["SALT", "LIME", "BBQ", "CHILI", "CREAM", "ONION", "HONEY", "PEPPER", "TANGY", "PLAIN"]
BRANDS = [
    "CRUNCHO",
    "KETLO",
    "LATEJ",
    "SNAKO",
    "POPLY",
    "CHIPZ",
    "MUNCH",
    "ZESTO",
    "TATER",
    "BAKEO",
]


@dataclass(frozen=True)
class Pack:
    upc: str
    family: int
    base: tuple[int, int, int]
    band: tuple[int, int, int]
    emblem: tuple[int, int, int]
    shape: str
    brand: str
    word: str


def catalog(families: int = 8, variants: int = 4, seed: int = 7) -> list[Pack]:
    """`families` x `variants` packs; variants of one family differ in one or two details."""
    rng = random.Random(seed)
    packs = []
    for family in range(families):
        base = BASES[family % len(BASES)]
        brand = BRANDS[family % len(BRANDS)]
        band0 = rng.choice([a for a in ACCENTS if a != base])
        shape0 = rng.choice(SHAPES)
        emblem = rng.choice([a for a in ACCENTS if a not in (base, band0)])
        words = rng.sample(WORDS, variants)
        bands = rng.sample([a for a in ACCENTS if a != base], variants)
        shapes = rng.sample(SHAPES, min(variants, len(SHAPES)))
        for v in range(variants):
            kind = v % 3  # what sets this variant apart from the family's first pack
            packs.append(
                Pack(
                    upc=f"{400000000000 + family * 100 + v:012d}",
                    family=family,
                    base=base,
                    band=bands[v] if kind in (0, 1) else band0,
                    emblem=emblem,
                    shape=shapes[v % len(shapes)] if kind in (0, 2) else shape0,
                    brand=brand,
                    word=words[v],
                )
            )
    return packs


def _shape(draw: ImageDraw.ImageDraw, shape: str, box: tuple[int, int, int, int], fill) -> None:
    x0, y0, x1, y1 = box
    cx, cy, r = (x0 + x1) / 2, (y0 + y1) / 2, (x1 - x0) / 2
    if shape == "circle":
        draw.ellipse(box, fill=fill)
    elif shape == "square":
        draw.rectangle(box, fill=fill)
    elif shape == "triangle":
        draw.polygon([(cx, y0), (x1, y1), (x0, y1)], fill=fill)
    elif shape == "diamond":
        draw.polygon([(cx, y0), (x1, cy), (cx, y1), (x0, cy)], fill=fill)
    else:  # star
        import math

        points = []
        for i in range(10):
            radius = r if i % 2 == 0 else r * 0.45
            angle = -math.pi / 2 + i * math.pi / 5
            points.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        draw.polygon(points, fill=fill)


def render(pack: Pack) -> Image.Image:
    """The pack itself, PACK_W x PACK_H, RGB."""
    image = Image.new("RGB", (PACK_W, PACK_H), pack.base)
    draw = ImageDraw.Draw(image)
    ink = (20, 20, 20) if sum(pack.base) > 450 else (250, 250, 250)
    draw.text(
        (PACK_W / 2, 38), pack.brand, fill=ink, anchor="mm", font=ImageFont.load_default(size=34)
    )
    draw.rectangle((0, 150, PACK_W, 200), fill=pack.band)
    band_ink = (20, 20, 20) if sum(pack.band) > 450 else (250, 250, 250)
    draw.text(
        (PACK_W / 2, 175),
        pack.word,
        fill=band_ink,
        anchor="mm",
        font=ImageFont.load_default(size=30),
    )
    _shape(draw, pack.shape, (60, 70, 140, 145), pack.emblem)
    draw.text(
        (PACK_W / 2, 250),
        "net wt 5 oz",
        fill=ink,
        anchor="mm",
        font=ImageFont.load_default(size=16),
    )
    return image


def reference_image(pack: Pack) -> Image.Image:
    canvas = Image.new("RGB", (400, 400), (255, 255, 255))
    art = render(pack).resize((220, 330))
    canvas.paste(art, (90, 35))
    return canvas


def _shelf(rng: random.Random, size: tuple[int, int], others: list[Pack]) -> Image.Image:
    width, height = size
    shade = rng.randint(30, 120)
    shelf = Image.new("RGB", size, (shade, shade, shade + rng.randint(-20, 20)))
    draw = ImageDraw.Draw(shelf)
    x = -rng.randint(0, PACK_W)
    while x < width:
        neighbour = render(rng.choice(others)).resize((PACK_W, PACK_H))
        shelf.paste(neighbour, (x, rng.randint(-20, 20)))
        x += PACK_W + rng.randint(-10, 15)
    for y in range(rng.randint(0, 40), height, 37):  # wire rack rails
        draw.line((0, y, width, y + rng.randint(-3, 3)), fill=(90, 90, 95), width=2)
    return shelf


def snapshot_image(pack: Pack, rng: random.Random, others: list[Pack]) -> Image.Image:
    """A shelf photo cropped around the pack, with photographic variation."""
    shelf = _shelf(rng, (PACK_W * 3, PACK_H + 40), others)
    art = render(pack).rotate(rng.uniform(-6, 6), expand=True, fillcolor=(60, 60, 60))
    ax, ay = PACK_W, 20
    shelf.paste(art, (ax, ay))
    aw, ah = art.size
    # crop: mostly the pack, a little of the neighbours, sometimes clipping an edge
    left = ax + rng.uniform(-0.12, 0.08) * aw
    top = ay + rng.uniform(-0.08, 0.06) * ah
    right = ax + aw + rng.uniform(-0.08, 0.12) * aw
    bottom = ay + ah + rng.uniform(-0.1, 0.06) * ah
    photo = shelf.crop((int(left), int(top), int(right), int(bottom)))
    scale = rng.uniform(0.45, 1.1)
    photo = photo.resize((max(24, int(photo.width * scale)), max(24, int(photo.height * scale))))
    photo = ImageEnhance.Brightness(photo).enhance(rng.uniform(0.65, 1.3))
    photo = ImageEnhance.Contrast(photo).enhance(rng.uniform(0.75, 1.2))
    photo = ImageEnhance.Color(photo).enhance(rng.uniform(0.75, 1.2))
    cast = [rng.uniform(0.9, 1.1) for _ in range(3)]
    photo = Image.merge(
        "RGB",
        [
            band.point(lambda v, c=c: min(255, int(v * c)))
            for band, c in zip(photo.split(), cast, strict=True)
        ],
    )
    if rng.random() < 0.6:
        photo = photo.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.4)))
    buffer = io.BytesIO()
    photo.save(buffer, "JPEG", quality=rng.randint(55, 90))
    buffer.seek(0)
    return Image.open(buffer).convert("RGB")


def snapshots(packs: list[Pack], per_pack: int, seed: int = 11) -> list[tuple[str, Image.Image]]:
    """(true upc, image) pairs, `per_pack` for each pack."""
    rng = random.Random(seed)
    return [(pack.upc, snapshot_image(pack, rng, packs)) for pack in packs for _ in range(per_pack)]

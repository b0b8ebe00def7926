"""How the desk shows a product or a photo: a tile with its packshot and thumbnail."""

from __future__ import annotations

from service.http.thumbs import thumbnail_url
from service.lead.models import ProductTile
from service.services import Services


def thumb(services: Services, key: str) -> str:
    return thumbnail_url(services.settings.public_url, key)


def tile(services: Services, id_: int, upc: str, name: str, key: str) -> ProductTile:
    return ProductTile(id_, upc, name, services.blobs.url(key), thumb(services, key))

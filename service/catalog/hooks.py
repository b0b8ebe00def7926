"""What other features hear about the catalog, registered when they start: catalog imports
none of them (similarity registers its embedding and scoring here).

    register(product_stored=..., snapshot_stored=..., snapshot_relabelled=...)

`product_stored(services, product_id, image)` and `snapshot_stored(services, snapshot_id,
image)` run after the picture's row is committed; `snapshot_relabelled(services, snapshot_id)`
after a snapshot's attribution changed (a lead's move or undo). Listeners must not raise:
whatever they could not do, their own background work catches up on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from service.services import Services

Stored = Callable[[Services, int, bytes], Awaitable[object]]
Relabelled = Callable[[Services, int], Awaitable[object]]

_product_stored: dict[str, Stored] = {}
_snapshot_stored: dict[str, Stored] = {}
_snapshot_relabelled: dict[str, Relabelled] = {}


def register(
    feature: str,
    *,
    product_stored: Stored | None = None,
    snapshot_stored: Stored | None = None,
    snapshot_relabelled: Relabelled | None = None,
) -> None:
    """Listen for catalog events (a later call for the same feature replaces its listeners)."""
    for table, listener in (
        (_product_stored, product_stored),
        (_snapshot_stored, snapshot_stored),
        (_snapshot_relabelled, snapshot_relabelled),
    ):
        if listener is None:
            table.pop(feature, None)
        else:
            table[feature] = listener


async def product_stored(services: Services, product_id: int, image: bytes) -> None:
    for listener in list(_product_stored.values()):
        await listener(services, product_id, image)


async def snapshot_stored(services: Services, snapshot_id: int, image: bytes) -> None:
    for listener in list(_snapshot_stored.values()):
        await listener(services, snapshot_id, image)


async def snapshot_relabelled(services: Services, snapshot_id: int) -> None:
    for listener in list(_snapshot_relabelled.values()):
        await listener(services, snapshot_id)

"""`make seed` for the catalog: the generated demo catalog (service.catalog.demo), with the
true product of every snapshot recorded in `snapshot_truth`. Pictures are stored only: the
service's background catch-up embeds them in batches once it runs (a fresh `make run` is
serving in seconds, suggestions follow within a few minutes)."""

from __future__ import annotations

import asyncio
import contextlib
from concurrent.futures import ThreadPoolExecutor

from service.catalog import demo, store
from service.db import IntegrityError
from service.errors import Conflict
from service.progress import progress_bar
from service.services import Services


async def seed_catalog(
    services: Services,
    force: bool,
    products_count: int = demo.PRODUCTS,
    per_product: int = demo.SNAPSHOTS_PER_PRODUCT,
) -> str:
    """Seed the demo catalog into an empty catalog (or add what is missing, with force)."""
    existing = await services.db.fetch_value("catalog_count_products")
    if existing and not force:
        return f"skipped: the catalog already has {existing} product(s)"
    products = demo.products(products_count)
    packs = [demo.pack_image(p) for p in products]
    plan = demo.plan(len(products), per_product)
    added_products = added_snapshots = 0
    ids: list[int] = []
    loop = asyncio.get_running_loop()
    with progress_bar("seed catalog", len(products) + len(plan)) as progress:
        for product, pack in zip(products, packs, strict=True):
            try:
                await store.create_product(
                    services,
                    upc=product.upc,
                    name=product.name,
                    image=demo.png(pack),
                    notify=False,
                )
                added_products += 1
            except Conflict:
                pass  # seeded before: keep it
            ids.append(await store.product_id(services, product.upc))
            progress.update()
        # Rendering is CPU work; Pillow releases the GIL, so two threads use two cores.
        with ThreadPoolExecutor(max_workers=2, thread_name_prefix="seed") as pool:
            rendered = [loop.run_in_executor(pool, demo.render, s, packs) for s in plan]
            for snapshot, future in zip(plan, rendered, strict=True):
                added = await store.add_snapshot(
                    services,
                    product_id=ids[snapshot.product_index],
                    image=await future,
                    source=f"demo/{products[snapshot.product_index].upc}/{snapshot.number:02d}.jpg",
                    dedupe=True,
                    notify=False,  # the similarity catch-up embeds them in batches
                )
                added_snapshots += added.created
                # Also for a snapshot found by dedupe: a crashed earlier run may have stored
                # the snapshot but not its truth row.
                with contextlib.suppress(IntegrityError):
                    await services.db.execute(
                        "catalog_insert_truth",
                        {"snapshot_id": added.snapshot_id,
                         "true_product_id": ids[snapshot.true_index]},
                    )  # fmt: skip
                progress.update()
    wrong = sum(s.product_index != s.true_index for s in plan)
    return (
        f"{added_products} product(s) and {added_snapshots} snapshot(s) added "
        f"({wrong} of {len(plan)} demo snapshots attributed to the wrong product)"
    )

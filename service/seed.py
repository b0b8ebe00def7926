"""`make seed`: fill an empty database with demo data, each feature seeding its own part."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import structlog

from service.config import Settings
from service.services import Services, open_services

log = structlog.get_logger(__name__)

# Each seeder checks whether its part is empty (unless forced) and says what it did.
Seeder = Callable[[Services, bool], Awaitable[str]]


def seeders() -> list[tuple[str, Seeder]]:
    from service.catalog.seed import seed_catalog
    from service.jobs.stores import seed_stores

    return [("stores", seed_stores), ("catalog", seed_catalog)]


async def seed(settings: Settings, force: bool = False) -> None:
    async with open_services(settings) as services:
        for name, seeder in seeders():
            outcome = await seeder(services, force)
            log.info("seed", part=name, outcome=outcome)
            print(f"{name}: {outcome}")

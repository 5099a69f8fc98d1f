"""Development data (SPEC §8.1): the catalog and the warehouse routing projection."""

from __future__ import annotations

from order_service.domain.routing import DEV_CATALOG, DEV_WAREHOUSES
from order_service.handlers import Deps
from shared.settings import Mode


async def seed_development(deps: Deps) -> None:
    """Idempotent: inserts what is missing, leaves what exists (events may have updated it)."""
    if deps.mode is not Mode.development:
        return
    async with deps.uow() as uow:
        await uow.reference.add_missing(DEV_CATALOG, DEV_WAREHOUSES)
        await uow.commit()

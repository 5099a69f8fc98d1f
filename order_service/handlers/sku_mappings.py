"""Setting a SKU mapping (platform variant → SKU): the orders waiting for it are resolved
in the same transaction; later orders are mapped on arrival (handlers/webhooks.py)."""

from __future__ import annotations

from dataclasses import dataclass

from order_service.adapters.uow import DuplicateKey, OrderUnitOfWork
from order_service.domain.errors import InvalidRequest
from order_service.domain.routing import enrich
from order_service.domain.skus import map_lines, waiting_variants
from order_service.handlers import Deps
from order_service.handlers.common import retry_on_conflict


@dataclass(frozen=True)
class SkuMapping:
    platform: str
    variant_id: str
    sku: str


async def set_mapping(deps: Deps, mapping: SkuMapping, actor: str) -> list[str]:
    """Store the mapping and resolve the orders waiting for it; → the resolved order ids.

    Looked at again after commit: an order committed meanwhile could not see the mapping,
    nor this transaction its waiting row (the intake does the same from its side)."""

    async def run() -> list[str]:
        async with deps.uow() as uow:
            catalog = await uow.reference.catalog()
            if mapping.sku not in catalog:
                raise InvalidRequest(
                    f"unknown SKU {mapping.sku!r}: map to a catalog SKU",
                    code="unknown_sku",
                    field="sku",
                )
            await uow.sku_mappings.put(
                mapping.platform, mapping.variant_id, mapping.sku, actor, uow.now()
            )
            resolved = await _resolve(uow, mapping.platform, mapping.variant_id, actor)
            await uow.commit()
            return resolved

    for attempt in range(4):
        try:
            resolved = await retry_on_conflict(run)
            break
        except DuplicateKey:
            if attempt == 3:
                raise  # the same mapping inserted concurrently: the next pass updates it
    if not deps.interleaves:  # SQLite writers run one after the other
        return resolved
    return resolved + await resolve_waiting(deps, mapping.platform, mapping.variant_id, actor)


async def resolve_waiting(deps: Deps, platform: str, variant_id: str, actor: str) -> list[str]:
    """Resolve the orders still waiting for this variant, if it is mapped by now."""

    async def run() -> list[str]:
        async with deps.uow() as uow:
            resolved = await _resolve(uow, platform, variant_id, actor)
            await uow.commit()
            return resolved

    return await retry_on_conflict(run)


async def _resolve(uow: OrderUnitOfWork, platform: str, variant_id: str, actor: str) -> list[str]:
    waiting = await uow.sku_mappings.waiting_orders(platform, variant_id)
    if not waiting:
        return []
    catalog = await uow.reference.catalog()
    resolved = []
    for order_id in waiting:
        order = await uow.orders.get(order_id)
        if order is None or order.stage != "synced":
            continue  # cancelled meanwhile: nothing to resolve
        keys = {(order.platform, v) for v in waiting_variants(order.lines)}
        known = (await uow.sku_mappings.lookup(keys)).get(order.platform, {})
        lines, mapped = map_lines(order.lines, known)
        if mapped:
            order.map_skus(enrich(lines, catalog), mapped, actor)
            await uow.store(order)
            resolved.append(order.id)
    if (await uow.sku_mappings.lookup([(platform, variant_id)])).get(platform):
        await uow.sku_mappings.clear_waiting(platform, variant_id)
    return resolved

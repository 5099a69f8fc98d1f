"""Setting a SKU mapping (platform variant → SKU): the orders waiting for it are resolved
in the same transaction; later orders are mapped on arrival (handlers/webhooks.py)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from order_service.adapters import sku_mappings as skumap
from order_service.adapters.uow import OrderUnitOfWork
from order_service.domain.errors import InvalidRequest
from order_service.domain.routing import enrich
from order_service.domain.skus import map_lines, waiting_variants
from order_service.handlers.common import retry_on_conflict
from shared.service import Runtime


@dataclass(frozen=True)
class SkuMapping:
    platform: str
    variant_id: str
    sku: str


async def set_mapping(rt: Runtime, mapping: SkuMapping, actor: str) -> list[str]:
    """Store the mapping and resolve the orders waiting for it; → the resolved order ids."""

    async def run() -> list[str]:
        async with OrderUnitOfWork(rt) as uow:
            catalog = await uow.catalog()
            if mapping.sku not in catalog:
                raise InvalidRequest(
                    f"unknown SKU {mapping.sku!r}: map to a catalog SKU",
                    code="unknown_sku",
                    field="sku",
                )
            await skumap.put(
                uow.session, mapping.platform, mapping.variant_id, mapping.sku, actor, uow.now()
            )
            resolved = []
            for order_id in await skumap.waiting_orders(
                uow.session, mapping.platform, mapping.variant_id
            ):
                order = await uow.orders.get(order_id)
                if order is None or order.stage != "synced":
                    continue  # cancelled meanwhile: nothing to resolve
                keys = {(order.platform, v) for v in waiting_variants(order.lines)}
                known = (await skumap.lookup(uow.session, keys)).get(order.platform, {})
                lines, mapped = map_lines(order.lines, known)
                if mapped:
                    order.map_skus(enrich(lines, catalog), mapped, actor)
                    await uow.store(order)
                    resolved.append(order.id)
            await skumap.clear_waiting(uow.session, mapping.platform, mapping.variant_id)
            await uow.commit()
            return resolved

    for _ in range(3):
        try:
            return await retry_on_conflict(run)
        except IntegrityError:
            continue  # the same mapping inserted concurrently: the next pass updates it
    return await retry_on_conflict(run)

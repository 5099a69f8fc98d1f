"""Exchanges and reships (SPEC §4.1): after-sales asks for a replacement shipment; the rule
lives in `domain/replacements.py`. Runs inside `idempotent(...)` like every consumer."""

from __future__ import annotations

from order_service.adapters.uow import OrderUnitOfWork
from order_service.domain.replacements import request_replacement
from order_service.handlers.events import apply_to_order
from shared.envelope import Envelope

REPLACEMENT_REQUESTED = "aftersales.replacement_requested"


async def on_replacement_requested(uow: OrderUnitOfWork, env: Envelope) -> None:
    """Route the replacement lines as new shipments of the order (`-R1`) and answer
    `order.replacement_created`, or `order.replacement_refused` with a code."""
    request = env.typed().model_dump(mode="json")
    catalog = await uow.reference.catalog()
    warehouses = await uow.reference.warehouses()
    await apply_to_order(
        uow,
        env,
        "aftersales",
        lambda o: request_replacement(o, request, catalog, warehouses, "aftersales"),
    )

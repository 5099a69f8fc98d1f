"""Cancel by line (SPEC §2.4): the CS use case; the rule lives in `domain/lines.py`."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from order_service.domain import lines
from order_service.domain.order import Order
from order_service.handlers import Deps
from order_service.handlers.common import load, retry_on_conflict


async def cancel_lines(
    deps: Deps, order_id: str, wanted: list[dict[str, Any]], reason: str, actor: str
) -> tuple[Order, dict[str, Any]]:
    """Each named line takes its shipment's path; decided again on the fresh state after a
    conflict. → the order and the change record (per line: mode, guaranteed, outcome)."""

    async def run() -> tuple[Order, dict[str, Any]]:
        async with deps.uow() as uow:
            order = await load(uow, order_id)
            change = lines.cancel_lines(order, wanted, reason, actor, f"L{uuid4().hex[:10]}")
            await uow.store(order)
            await uow.commit()
            return order, change

    return await retry_on_conflict(run)

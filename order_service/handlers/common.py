"""Helpers every handler uses: loading an order, retrying on a version conflict."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from order_service.adapters.repository import VersionConflict
from order_service.adapters.uow import OrderUnitOfWork
from order_service.domain.errors import DomainError
from order_service.domain.order import Order

T = TypeVar("T")


class OrderNotFound(DomainError):
    code = "not_found"


async def load(uow: OrderUnitOfWork, order_id: str) -> Order:
    order = await uow.orders.get(order_id)
    if order is None:
        raise OrderNotFound(f"order {order_id} not found", order_id=order_id)
    return order


async def retry_on_conflict(fn: Callable[[], Awaitable[T]], attempts: int = 8) -> T:
    """Re-run a whole unit of work when another writer saved the order first: the
    rule is decided again on the fresh state, so only one outcome can win."""
    for attempt in range(1, attempts + 1):
        try:
            return await fn()
        except VersionConflict:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")

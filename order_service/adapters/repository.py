"""Rows <-> Order aggregates, with an optimistic version check on every save."""

from __future__ import annotations

from dataclasses import asdict, fields
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncSession

from order_service.adapters import tables as t
from order_service.domain.order import Order, Shipment
from shared.db import rowcount

_TRANSIENT = ("events", "timeline", "tracking_sync")
_DATES = ("paid_at", "platform_updated_at", "delivered_at", "delivery_reported_at")
_AMOUNTS = ("shipping", "discount")  # None: not known (and in documents stored before them)


class VersionConflict(Exception):
    """Someone saved the order since it was loaded."""

    def __init__(self, order_id: str, version: int):
        super().__init__(f"order {order_id} changed since version {version}")
        self.order_id, self.version = order_id, version


def to_document(order: Order) -> dict[str, Any]:
    doc = {f.name: getattr(order, f.name) for f in fields(order) if f.name not in _TRANSIENT}
    doc["shipments"] = [asdict(s) for s in order.shipments]
    doc["total"] = str(order.total)
    for name in _AMOUNTS:
        doc[name] = None if doc[name] is None else str(doc[name])
    for name in _DATES:
        doc[name] = doc[name].isoformat() if doc[name] else None
    doc.pop("version")
    return doc


def from_document(doc: dict[str, Any], version: int) -> Order:
    data = dict(doc)
    data["shipments"] = [Shipment(**s) for s in doc.get("shipments", [])]
    data["total"] = Decimal(doc["total"])
    for name in _AMOUNTS:
        data[name] = Decimal(doc[name]) if doc.get(name) is not None else None
    for name in _DATES:
        data[name] = datetime.fromisoformat(doc[name]) if doc.get(name) else None
    return Order(**data, version=version)


class OrderRepository:
    """Orders in one session; `save` fails with VersionConflict on a stale version."""

    def __init__(self, session: AsyncSession):
        self.session = session

    async def get(self, order_id: str) -> Order | None:
        row = (
            await self.session.execute(
                select(t.orders.c.data, t.orders.c.version).where(t.orders.c.id == order_id)
            )
        ).first()
        return from_document(row.data, row.version) if row else None

    async def by_platform_id(self, platform: str, platform_order_id: str) -> Order | None:
        row = (
            await self.session.execute(
                select(t.orders.c.data, t.orders.c.version).where(
                    t.orders.c.platform == platform,
                    t.orders.c.platform_order_id == platform_order_id,
                )
            )
        ).first()
        return from_document(row.data, row.version) if row else None

    async def known_platform_ids(self, keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (platform, platform order id) pairs are already orders."""
        if not keys:
            return set()
        o = t.orders
        rows = await self.session.execute(
            select(o.c.platform, o.c.platform_order_id).where(
                tuple_(o.c.platform, o.c.platform_order_id).in_(keys)
            )
        )
        return {(r.platform, r.platform_order_id) for r in rows}

    async def add_all(self, orders: list[Order], now: datetime) -> None:
        if not orders:
            return
        await self.session.execute(
            insert(t.orders),
            [
                {
                    "id": order.id,
                    "shop_id": order.shop_id,
                    "platform": order.platform,
                    "platform_order_id": order.platform_order_id,
                    "stage": order.stage,
                    "held": order.held,
                    "version": 1,
                    "data": to_document(order),
                    "created_at": now,
                    "updated_at": now,
                }
                for order in orders
            ],
        )
        for order in orders:
            order.version = 1

    async def save(self, order: Order, now: datetime) -> None:
        result = await self.session.execute(
            update(t.orders)
            .where(t.orders.c.id == order.id, t.orders.c.version == order.version)
            .values(
                stage=order.stage,
                held=order.held,
                version=order.version + 1,
                data=to_document(order),
                updated_at=now,
            )
        )
        if rowcount(result) != 1:
            raise VersionConflict(order.id, order.version)
        order.version += 1

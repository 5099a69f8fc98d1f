"""Read side of order_service: the queries behind the GET endpoints (no rules, no writes)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select

from order_service.adapters import tables as t
from order_service.adapters.repository import from_document
from order_service.domain.order import Order
from shared.db import Database

_ORDER = select(t.orders.c.data, t.orders.c.version).where(t.orders.c.id == bindparam("id"))


async def order(db: Database, order_id: str) -> Order | None:
    row = await db.first(_ORDER, id=order_id)
    if row is None:
        return None
    data, version = row
    return from_document(data, version)


async def orders(db: Database, *, limit: int, offset: int, **filters: Any) -> list[Order]:
    """Orders in arrival order, filtered by stage, platform, platform_order_id and held."""
    o = t.orders
    q = select(o.c.data, o.c.version).order_by(o.c.created_at, o.c.id).limit(limit).offset(offset)
    for name, value in filters.items():
        if value is not None:
            q = q.where(o.c[name] == value)
    async with db.reader() as session:
        rows = (await session.execute(q)).all()
    return [from_document(r.data, r.version) for r in rows]


async def timeline(db: Database, order_id: str) -> list[dict[str, Any]]:
    tl = t.timeline
    async with db.reader() as session:
        rows = (
            await session.execute(select(tl).where(tl.c.order_id == order_id).order_by(tl.c.id))
        ).all()
    return [
        {
            "at": r.at.isoformat(),
            "kind": r.kind,
            "actor": r.actor,
            "cause": r.cause,
            "detail": r.detail,
        }
        for r in rows
    ]


async def review_policy(db: Database) -> dict[str, Any]:
    async with db.reader() as session:
        row = (
            await session.execute(select(t.config.c.value).where(t.config.c.key == "review"))
        ).first()
    return row.value if row else {}

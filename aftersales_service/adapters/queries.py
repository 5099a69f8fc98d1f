"""Read-side list queries (reader sessions): complaints, tasks, ledger, returned goods."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_service.adapters import tables as t
from aftersales_service.adapters.rows import money, utc


def _row(r) -> dict:
    out = {}
    for k, v in r._mapping.items():
        if isinstance(v, datetime):
            v = utc(v).isoformat()
        elif k in ("amount", "value", "recovered_value", "repair_cost", "original_amount"):
            v = None if v is None else str(money(v))
        out[k] = v
    return out


async def complaints(
    s: AsyncSession, now: datetime, overdue: bool | None, status: str | None, limit: int
) -> list[dict]:
    """`overdue=true`: open past the deadline, or ever breached and still unanswered."""
    c = t.complaints
    q = select(c).order_by(c.c.due_at).limit(limit)
    if status:
        q = q.where(c.c.status == status)
    if overdue:
        q = q.where(c.c.status == "open", (c.c.due_at < now) | c.c.breached_at.is_not(None))
    rows = [_row(r) for r in await s.execute(q)]
    for r in rows:
        r["overdue"] = r["status"] == "open" and datetime.fromisoformat(r["due_at"]) < now
    return rows


async def tasks(
    s: AsyncSession, now: datetime, status: str | None, overdue: bool | None, limit: int
) -> list[dict]:
    q = select(t.tasks).order_by(t.tasks.c.deadline).limit(limit)
    if status:
        q = q.where(t.tasks.c.status == status)
    if overdue:
        q = q.where(t.tasks.c.status == "open", t.tasks.c.deadline < now)
    rows = [_row(r) for r in await s.execute(q)]
    for r in rows:
        r["overdue"] = r["status"] == "open" and datetime.fromisoformat(r["deadline"]) < now
        r["options"] = ["wait", "substitute", "cancel_and_refund"]
    return rows


async def liabilities(
    s: AsyncSession,
    order_id: str | None = None,
    party: str | None = None,
    return_id: str | None = None,
    limit: int = 100,
    liability_id: str | None = None,
) -> list[dict]:
    li = t.liabilities
    q = select(li).order_by(li.c.created_at, li.c.liability_id).limit(limit)
    filters = (
        ("order_id", order_id),
        ("party", party),
        ("return_id", return_id),
        ("liability_id", liability_id),
    )
    for col, value in filters:
        if value:
            q = q.where(li.c[col] == value)
    return [_row(r) for r in await s.execute(q)]


async def returned_goods(
    s: AsyncSession, disposition: str | None, sku: str | None, limit: int
) -> list[dict]:
    g = t.returned_inventory
    q = select(g).order_by(g.c.id).limit(limit)
    if disposition:
        q = q.where(g.c.disposition == disposition)
    if sku:
        q = q.where(g.c.sku == sku)
    return [_row(r) for r in await s.execute(q)]

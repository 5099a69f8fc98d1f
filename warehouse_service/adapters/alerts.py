"""The facts alerts are computed from (stock rows, picks from the ledger) and the rules."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from warehouse_service.adapters import tables as t
from warehouse_service.adapters.repository import utc
from warehouse_service.domain.alerts import HISTORY, SLOW_WEEKS, WEEK, AlertRule, Figures
from warehouse_service.domain.stock import SELLABLE

LIMIT = 5_000


async def figures(
    session: AsyncSession, now: datetime, sku: str | None, warehouse_id: str | None
) -> list[Figures]:
    """Per sellable row: available, units picked over HISTORY and per week, first stocked."""
    s, m = t.stock.c, t.stock_movements.c
    picked = -m.on_hand_delta

    def sold_between(start: datetime, end: datetime):
        inside = and_(m.kind == "pick", m.at > start, m.at <= end)
        return func.coalesce(func.sum(case((inside, picked), else_=0)), 0)

    weeks = [sold_between(now - (k + 1) * WEEK, now - k * WEEK) for k in range(SLOW_WEEKS)]
    facts = (
        select(
            m.warehouse_id,
            m.sku,
            sold_between(now - HISTORY, now).label("sold"),
            func.min(m.at).label("since"),
            *(w.label(f"week{k}") for k, w in enumerate(weeks)),
        )
        .where(m.pool == SELLABLE)
        .group_by(m.warehouse_id, m.sku)
        .subquery()
    )
    query = (
        select(s.warehouse_id, s.sku, (s.on_hand - s.reserved).label("available"), facts)
        .outerjoin(facts, and_(facts.c.warehouse_id == s.warehouse_id, facts.c.sku == s.sku))
        .where(s.pool == SELLABLE)
        .order_by(s.warehouse_id, s.sku)
        .limit(LIMIT)
    )
    if sku:
        query = query.where(s.sku == sku)
    if warehouse_id:
        query = query.where(s.warehouse_id == warehouse_id)
    rows = (await session.execute(query)).mappings().all()
    return [
        Figures(
            r["warehouse_id"],
            r["sku"],
            int(r["available"]),
            int(r["sold"] or 0),
            tuple(int(r[f"week{k}"] or 0) for k in range(SLOW_WEEKS)),
            utc(r["since"]),
        )
        for r in rows
    ]


async def rules(session: AsyncSession, skus: list[str] | None = None) -> dict[str, AlertRule]:
    a = t.alert_rules.c
    query = select(t.alert_rules)
    if skus is not None:
        query = query.where(a.sku.in_(skus))
    return {
        r.sku: AlertRule(r.daily_sales, r.reorder_days, r.slow_moving_days)
        for r in await session.execute(query)
    }


async def put_rule(
    session: AsyncSession, sku: str, rule: AlertRule, by: str, now: datetime
) -> None:
    upsert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    values = {
        "daily_sales": rule.daily_sales,
        "reorder_days": rule.reorder_days,
        "slow_moving_days": rule.slow_moving_days,
        "updated_by": by,
        "updated_at": now,
    }
    stmt = upsert(t.alert_rules).values(sku=sku, **values)
    await session.execute(stmt.on_conflict_do_update(index_elements=["sku"], set_=values))

"""Analytics as SQL aggregates (GROUP BY over covering indexes), built to scale to
1,000,000 orders / 150,000 returns. Ratios are combined in Python from the aggregates."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_service.adapters import tables as t

DIMENSIONS = ("sku", "category", "supplier", "warehouse")
_COLUMN = {
    "sku": "sku",
    "category": "category",
    "supplier": "supplier_id",
    "warehouse": "warehouse_id",
}
BUCKETS = (("0-1d", 0, 1), ("1-3d", 1, 3), ("3-7d", 3, 7), ("7-15d", 7, 15), ("15d+", 15, None))
FOUR = Decimal("0.0001")


def _rate(part: int | Decimal, whole: int | Decimal) -> Decimal:
    return (Decimal(part) / Decimal(whole) if whole else Decimal(0)).quantize(FOUR)


async def return_rates(s: AsyncSession, dim: str) -> list[dict]:
    """Units returned / units sold per sku, category, supplier or warehouse."""
    col = _COLUMN[dim]
    sold_col, ret_col = t.order_lines.c[col], t.return_lines.c[col]
    sold = dict(
        (await s.execute(select(sold_col, func.sum(t.order_lines.c.qty)).group_by(sold_col))).all()
    )
    returned = dict(
        (
            await s.execute(
                select(ret_col, func.sum(t.return_lines.c.qty))
                .where(t.return_lines.c.active.is_(True))
                .group_by(ret_col)
            )
        ).all()
    )
    rows = [
        {
            dim: key,
            "sold_units": int(sold.get(key) or 0),
            "returned_units": int(returned.get(key) or 0),
            "return_rate": _rate(int(returned.get(key) or 0), int(sold.get(key) or 0)),
        }
        for key in set(sold) | set(returned)
    ]
    rows.sort(key=lambda r: (-r["return_rate"], str(r[dim])))
    return rows


async def reasons(s: AsyncSession) -> list[dict]:
    r = t.returns
    q = (
        select(r.c.reason_code, r.c.reason_category, func.count(), func.sum(r.c.amount))
        .where(r.c.status != "rejected")
        .group_by(r.c.reason_code, r.c.reason_category)
    )
    rows = (await s.execute(q)).all()
    total = sum(n for _, _, n, _ in rows)
    out = [
        {
            "reason": code,
            "category": cat,
            "returns": n,
            "share": _rate(n, total),
            "amount": Decimal(str(amount or 0)).quantize(Decimal("0.01")),
        }
        for code, cat, n, amount in rows
    ]
    out.sort(key=lambda x: (-x["returns"], x["reason"]))
    return out


async def return_times(s: AsyncSession) -> list[dict]:
    """Delivery → return opened, in day buckets (CASE in SQL, one GROUP BY)."""
    days = t.returns.c.days_after_delivery
    bucket = case(
        *[
            ((days >= lo) & (days < hi) if hi is not None else days >= lo, label)
            for label, lo, hi in BUCKETS
        ],
        else_="unknown",
    ).label("bucket")
    q = (
        select(bucket, func.count())
        .where(days.is_not(None), t.returns.c.kind == "return", t.returns.c.status != "rejected")
        .group_by(bucket)
    )
    counts: dict[str, int] = dict((await s.execute(q)).all())
    total = sum(counts.values())
    return [
        {
            "bucket": label,
            "returns": counts.get(label, 0),
            "share": _rate(counts.get(label, 0), total),
        }
        for label, _, _ in BUCKETS
    ]


async def timeline(s: AsyncSession, limit_days: int = 90) -> list[dict]:
    day = func.date(t.returns.c.opened_at).label("day")
    q = select(day, func.count()).group_by(day).order_by(day.desc()).limit(limit_days)
    rows = (await s.execute(q)).all()
    return [{"day": str(d), "returns": n} for d, n in reversed(rows)]


async def complaints_per_10k(s: AsyncSession) -> dict:
    orders = (await s.execute(select(func.count()).select_from(t.orders))).scalar_one()
    complaints = (await s.execute(select(func.count()).select_from(t.complaints))).scalar_one()
    per = (
        (Decimal(complaints) * 10000 / Decimal(orders)).quantize(Decimal("0.01"))
        if orders
        else Decimal("0")
    )
    return {"orders": orders, "complaints": complaints, "complaints_per_10k_orders": per}


async def reviews(s: AsyncSession) -> dict[str, tuple[int, int]]:
    rows = await s.execute(select(t.sku_reviews))
    return {r.sku: (r.reviews, r.bad_reviews) for r in rows}


async def _grouped(s: AsyncSession, q) -> dict:
    return {row[0]: row[1:] for row in (await s.execute(q)).all()}


async def _shipping(s: AsyncSession) -> tuple[dict, dict]:
    """From the maintained rollup (adapters/rollup.py): per warehouse with shipments,
    (count, shipped, avg, max seconds), and the value shipped. The max is an
    index lookup per warehouse (ix_shipments_warehouse), not kept in the rollup."""
    r, sh = t.warehouse_rollup, t.shipments
    longest = (
        select(func.max(sh.c.submit_to_ship_seconds))
        .where(sh.c.warehouse_id == r.c.warehouse_id)
        .scalar_subquery()
    )
    rows = await s.execute(
        select(
            r.c.warehouse_id,
            r.c.shipments,
            r.c.shipped,
            r.c.ship_seconds_sum,
            r.c.ship_seconds_n,
            r.c.value_cents,
            case((r.c.shipments > 0, longest)),
        )
    )
    ship, value = {}, {}
    for wh, n, shipped, secs, secs_n, cents, max_s in rows:
        if n:
            ship[wh] = (int(n), int(shipped), int(secs) / int(secs_n) if secs_n else None, max_s)
        value[wh] = Decimal(int(cents)) / 100
    return ship, value


async def warehouses(s: AsyncSession) -> list[dict]:
    """Per warehouse: submit-to-ship time, loss rate (ledger / value shipped), returns and
    their handling time."""
    li, rt = t.liabilities, t.returns
    ship, value = await _shipping(s)
    loss = await _grouped(
        s,
        select(li.c.warehouse_id, func.sum(li.c.amount))
        .where(li.c.party == "warehouse")
        .group_by(li.c.warehouse_id),
    )
    rets = await _grouped(
        s,
        select(rt.c.warehouse_id, func.count(), func.avg(rt.c.handling_seconds))
        .where(rt.c.status != "rejected")
        .group_by(rt.c.warehouse_id),
    )
    info = await _grouped(
        s, select(t.warehouses.c.warehouse_id, t.warehouses.c.kind, t.warehouses.c.supplier_id)
    )
    out = []
    for wh in sorted(k for k in set(ship) | set(info) | set(rets) if k is not None):
        kind, supplier = info.get(wh, (None, None))
        shipments, shipped, avg_s, max_s = ship.get(wh, (0, 0, None, None))
        shipped_value = value.get(wh, Decimal(0)).quantize(Decimal("0.01"))
        lost = Decimal(str(loss.get(wh, (0,))[0] or 0)).quantize(Decimal("0.01"))
        returns, handling = rets.get(wh, (0, None))
        out.append(
            {
                "warehouse_id": wh,
                "kind": kind,
                "supplier_id": supplier,
                "shipments": shipments,
                "shipped": shipped,
                "avg_submit_to_ship_hours": None
                if avg_s is None
                else round(float(avg_s) / 3600, 2),
                "max_submit_to_ship_hours": None
                if max_s is None
                else round(float(max_s) / 3600, 2),
                "value_shipped": shipped_value,
                "warehouse_loss": lost,
                "loss_rate": _rate(lost, shipped_value),
                "returns": returns,
                "avg_return_handling_hours": None
                if handling is None
                else round(float(handling) / 3600, 2),
            }
        )
    return out


async def supplier_losses(s: AsyncSession) -> dict[str, Decimal]:
    li = t.liabilities
    q = (
        select(li.c.supplier_id, func.sum(li.c.amount))
        .where(li.c.party == "supplier")
        .group_by(li.c.supplier_id)
    )
    return {k: Decimal(str(v)).quantize(Decimal("0.01")) for k, v in (await s.execute(q)).all()}

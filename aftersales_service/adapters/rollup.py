"""Per-warehouse rollup of shipments and shipped value, so `/analytics/warehouses` reads
a handful of rows instead of aggregating every shipment and order line.

The projection changes shipments and order lines one order at a time, inside the inbox
transaction of the event. It takes the order's *footprint* (what its rows contribute to
each warehouse) before and after the change and adds the difference to the rollup in the
same transaction, so the rollup always equals the recomputed aggregate (`recompute`).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from aftersales_service.adapters import tables as t
from shared.db import rowcount

FIELDS = ("shipments", "shipped", "ship_seconds_sum", "ship_seconds_n", "value_cents")
Footprint = dict[str, list[int]]  # warehouse_id -> values in FIELDS order


def cents(qty: int, unit_price) -> int:
    return int(qty) * int((Decimal(str(unit_price)) * 100).to_integral_value())


def _new() -> Footprint:
    return defaultdict(lambda: [0] * len(FIELDS))


def tally(shipments, lines) -> Footprint:
    """The footprint of shipment rows `(warehouse_id, shipped_at, submit_to_ship_seconds)`
    and line rows `(warehouse_id, qty, unit_price)`."""
    out = _new()
    for wh, shipped_at, seconds in shipments:
        if wh is not None:
            acc = out[wh]
            acc[0] += 1
            acc[1] += shipped_at is not None
            acc[2] += seconds or 0
            acc[3] += seconds is not None
    for wh, qty, price in lines:
        if wh is not None:
            out[wh][4] += cents(qty, price)
    return out


async def footprint(s: AsyncSession, order_id: str, shipment_id: str | None = None) -> Footprint:
    """What this order's shipments (and `shipment_id`) and lines add to each warehouse."""
    sh = t.shipments
    where = sh.c.order_id == order_id
    if shipment_id is not None:
        where = or_(where, sh.c.shipment_id == shipment_id)
    shipments = await s.execute(
        select(sh.c.warehouse_id, sh.c.shipped_at, sh.c.submit_to_ship_seconds).where(where)
    )
    ln = t.order_lines
    lines = await s.execute(
        select(ln.c.warehouse_id, ln.c.qty, ln.c.unit_price).where(ln.c.order_id == order_id)
    )
    return tally(shipments.all(), lines.all())


async def apply(s: AsyncSession, before: Footprint, after: Footprint) -> None:
    """Add `after - before` to the rollup rows (atomic increments, created on first use)."""
    for wh in set(before) | set(after):
        old, new = before.get(wh, [0] * len(FIELDS)), after.get(wh, [0] * len(FIELDS))
        delta = {f: n - o for f, o, n in zip(FIELDS, old, new, strict=True)}
        if any(delta.values()):
            await _add(s, wh, delta)


async def _add(s: AsyncSession, wh: str, delta: dict[str, int]) -> None:
    r = t.warehouse_rollup
    increments = {f: r.c[f] + d for f, d in delta.items() if d}
    stmt = update(r).where(r.c.warehouse_id == wh).values(**increments)
    if rowcount(await s.execute(stmt)):
        return
    try:
        async with s.begin_nested():
            await s.execute(insert(r).values(warehouse_id=wh, **delta))
    except IntegrityError:  # created concurrently: add to it instead
        await s.execute(stmt)


async def recompute(s: AsyncSession) -> dict[str, tuple[int, ...]]:
    """The rollup figures aggregated from the fact tables (slow; rebuilds and tests)."""
    sh, ln = t.shipments, t.order_lines
    out = _new()
    rows = await s.execute(
        select(
            sh.c.warehouse_id,
            func.count(),
            func.count(sh.c.shipped_at),
            func.coalesce(func.sum(sh.c.submit_to_ship_seconds), 0),
            func.count(sh.c.submit_to_ship_seconds),
        )
        .where(sh.c.warehouse_id.is_not(None))
        .group_by(sh.c.warehouse_id)
    )
    for wh, *values in rows:
        out[wh][:4] = [int(v) for v in values]
    rows = await s.execute(
        select(ln.c.warehouse_id, ln.c.unit_price, func.sum(ln.c.qty))
        .where(ln.c.warehouse_id.is_not(None))
        .group_by(ln.c.warehouse_id, ln.c.unit_price)
    )
    for wh, price, qty in rows:
        out[wh][4] += cents(qty, price)
    return {wh: tuple(v) for wh, v in out.items() if any(v)}


async def stored(s: AsyncSession) -> dict[str, tuple[int, ...]]:
    r = t.warehouse_rollup
    rows = await s.execute(select(r.c.warehouse_id, *(r.c[f] for f in FIELDS)))
    return {wh: tuple(int(v) for v in values) for wh, *values in rows if any(values)}


async def rebuild(s: AsyncSession) -> None:
    """Replace the rollup with the recomputed figures (caller commits)."""
    figures = await recompute(s)
    await s.execute(delete(t.warehouse_rollup))
    rows = [{"warehouse_id": wh, **dict(zip(FIELDS, v, strict=True))} for wh, v in figures.items()]
    if rows:
        await s.execute(insert(t.warehouse_rollup), rows)


async def rebuild_if_missing(s: AsyncSession) -> bool:
    """Build the rollup for a database whose facts predate it (empty rollup, facts present)."""
    has_rollup = (await s.execute(select(t.warehouse_rollup.c.warehouse_id).limit(1))).first()
    if has_rollup is not None:
        return False
    facts = (await s.execute(select(t.shipments.c.shipment_id).limit(1))).first() or (
        await s.execute(select(t.order_lines.c.order_id).limit(1))
    ).first()
    if facts is None:
        return False
    await rebuild(s)
    return True

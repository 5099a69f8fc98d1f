"""Stock use cases from the API: receipts, count corrections, transfers, alerts; the seed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import uuid4

from shared.db import Database
from warehouse_service.adapters import alerts as alert_store
from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.domain.alerts import Alert, AlertRule, alerts_for
from warehouse_service.domain.errors import InvalidRequest, NotFound
from warehouse_service.domain.stock import DEV_CARRIED, DEV_UNITS, SELLABLE, Movement, Stock
from warehouse_service.handlers import Deps


@dataclass(frozen=True)
class Adjustment:
    """A receipt (`qty` units in) or a count correction (`counted` is now on hand)."""

    warehouse_id: str
    sku: str
    kind: str  # receipt | count_correction
    reason: str
    actor: str
    qty: int | None = None
    counted: int | None = None
    pool: str = SELLABLE


async def _known(uow: WarehouseUnitOfWork, *warehouse_ids: str) -> None:
    for wid in warehouse_ids:
        if await uow.warehouses.get(wid) is None:
            raise NotFound(f"no warehouse {wid}", warehouse_id=wid)


async def adjust(deps: Deps, a: Adjustment) -> tuple[Stock, Movement]:
    """Apply one adjustment to the locked row and record its movement."""
    ref = f"ADJ-{uuid4().hex[:12]}"
    why = {"actor": a.actor, "reason": a.reason, "reference": ref}
    async with deps.uow() as uow:
        await _known(uow, a.warehouse_id)
        [stock] = await uow.stock.lock([(a.warehouse_id, a.sku, a.pool)], deps.clock.now())
        if a.kind == "receipt":
            if a.qty is None:
                raise InvalidRequest("a receipt needs qty", field="qty")
            move = stock.receive(a.qty, **why)
        else:
            if a.counted is None:
                raise InvalidRequest("a count correction needs counted", field="counted")
            move = stock.correct(a.counted, **why)
        await _write(uow, deps, [stock], [move])
    return stock, move


async def transfer(
    deps: Deps, sku: str, source: str, target: str, qty: int, reason: str, actor: str
) -> tuple[Stock, Stock, str]:
    """调拨: move available sellable units from one warehouse to another."""
    if source == target:
        raise InvalidRequest("to_warehouse_id must differ from from_warehouse_id", field="to")
    ref = f"TRF-{uuid4().hex[:12]}"
    why = {"actor": actor, "reason": reason, "reference": ref}
    async with deps.uow() as uow:
        await _known(uow, source, target)
        keys = [(source, sku, SELLABLE), (target, sku, SELLABLE)]
        rows = await uow.stock.lock(keys, deps.clock.now())
        out, into = (rows[0], rows[1]) if rows[0].warehouse_id == source else (rows[1], rows[0])
        moves = [out.transfer_out(qty, **why), into.transfer_in(qty, **why)]
        await _write(uow, deps, [out, into], moves)
    return out, into, ref


async def _write(
    uow: WarehouseUnitOfWork, deps: Deps, stocks: list[Stock], moves: list[Movement]
) -> None:
    now = deps.clock.now()
    await uow.stock.save(stocks, now)
    await uow.stock.record(moves, now)
    await uow.commit()


async def alerts(
    db: Database, now: datetime, sku: str | None, warehouse_id: str | None
) -> list[Alert]:
    """Every sellable row's alerts under its SKU's rule (the defaults without one)."""
    async with db.reader() as session:
        facts = await alert_store.figures(session, now, sku, warehouse_id)
        configured = await alert_store.rules(session, sorted({f.sku for f in facts}))
    return [a for f in facts for a in alerts_for(configured.get(f.sku, AlertRule()), f, now)]


async def set_alert_rule(deps: Deps, sku: str, rule: AlertRule, actor: str) -> None:
    async with deps.uow() as uow:
        await alert_store.put_rule(uow.session, sku, rule, actor, deps.clock.now())
        await uow.commit()


async def seed_dev_stock(deps: Deps) -> None:
    """SPEC §8.1: 1,000 on hand of every SKU at each warehouse that carries it, once."""
    rows = [(w, sku, DEV_UNITS) for w, skus in DEV_CARRIED.items() for sku in skus]
    async with deps.uow() as uow:
        now = deps.clock.now()
        inserted = await uow.stock.seed(rows, now)
        moves = [
            Movement(w, sku, "receipt", DEV_UNITS, 0, actor="dev-seed", reason="development stock")
            for w, sku in inserted
        ]
        await uow.stock.record(moves, now)
        await uow.commit()

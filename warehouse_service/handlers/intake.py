"""New tasks reserve their lines in the transaction that creates them (SPEC §3.2).

The consumer applies a fetched batch of `order.submitted` in one transaction; the new
tasks wait in the unit of work until its commit (or until another event of the batch
needs them) and reserve together: one conditional UPDATE per stock row for the whole
batch, so a hot SKU costs one statement, not one per order, and the row stays locked
only from the end of the batch to its commit. A row whose batch total does not fit is
locked and shared first come, first served; a task left short is created in
`exception` (out of stock) at once, with the event the scanner's out-of-stock sends.
"""

from __future__ import annotations

from functools import partial

from shared.envelope import Envelope
from warehouse_service.adapters.stock import settle
from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.domain import stock as rules
from warehouse_service.domain.shipment import Shipment
from warehouse_service.domain.stock import Demand, Movement
from warehouse_service.handlers import Deps, publish

ACTOR = "warehouse_service:intake"


def is_pending(uow: WarehouseUnitOfWork, shipment_id: str) -> bool:
    return any(s.shipment_id == shipment_id for s, _ in uow.intake)


def submit(deps: Deps, uow: WarehouseUnitOfWork, shipment: Shipment, env: Envelope) -> None:
    """Queue a new task for the batch's reservation (stored at the latest at commit)."""
    if not uow.intake:
        uow.before_commit(partial(flush, deps, uow))
    uow.intake.append((shipment, env))


async def flush(deps: Deps, uow: WarehouseUnitOfWork) -> None:
    """Reserve the waiting tasks' lines together, then store and announce the tasks."""
    batch, uow.intake = uow.intake, []
    if not batch:
        return
    now = deps.clock.now()
    # A task for an unknown warehouse stays unrouted, as before stock was kept.
    demands = [
        Demand(s.shipment_id, s.warehouse_id, rules.demand(s.lines))
        for s, _ in batch
        if s.warehouse_kind is not None
    ]
    short = await reserve(uow, demands, now)
    reservations, movements = [], []
    for shipment, env in batch:
        if shipment.shipment_id in short:
            shipment.report_out_of_stock(short[shipment.shipment_id], rules.OUT_OF_STOCK_NOTE)
        elif shipment.warehouse_kind is not None:
            for sku, qty in rules.demand(shipment.lines).items():
                reservations.append((shipment.shipment_id, shipment.warehouse_id, sku, qty))
                movements.append(_reserved(shipment, sku, qty, env))
        await uow.shipments.add(shipment, now)
        publish(uow, shipment, cause=env)
    await uow.stock.add_reservations(reservations, now)
    await uow.stock.record(movements, now)


async def reserve_edited(deps: Deps, uow: WarehouseUnitOfWork, shipment: Shipment, env) -> None:
    """A queued task's lines changed: its old reservation goes back and the new lines are
    reserved, or the task becomes out of stock like a new one."""
    if shipment.warehouse_kind is None:
        return
    now = deps.clock.now()
    await settle(uow.stock, [("release", shipment.shipment_id, env)], now)
    await uow.stock.forget_settled(shipment.shipment_id)
    need = rules.demand(shipment.lines)
    short = await reserve(uow, [Demand(shipment.shipment_id, shipment.warehouse_id, need)], now)
    if short:
        shipment.report_out_of_stock(short[shipment.shipment_id], rules.OUT_OF_STOCK_NOTE)
        return
    rows = [(shipment.shipment_id, shipment.warehouse_id, sku, qty) for sku, qty in need.items()]
    await uow.stock.add_reservations(rows, now)
    await uow.stock.record([_reserved(shipment, sku, qty, env) for sku, qty in need.items()], now)


async def reserve(uow: WarehouseUnitOfWork, demands: list[Demand], now) -> dict[str, list[str]]:
    """Reserve what fits; returns the tasks left short with the SKUs they lack."""
    need = rules.totals(demands)
    scarce = [k for k, n in need.items() if not await uow.stock.try_reserve(k, n, now)]
    if not scarce:
        return {}
    granted, short = rules.allocate(demands, await uow.stock.available_locked(scarce))
    back = rules.returned(demands, short, scarce)
    changes = {k: (0, n) for k, n in granted.items()}
    changes.update({k: (0, -n) for k, n in back.items()})
    await uow.stock.shift(changes, now)
    return short


def _reserved(shipment: Shipment, sku: str, qty: int, env: Envelope) -> Movement:
    return Movement(
        shipment.warehouse_id,
        sku,
        "reservation",
        0,
        qty,
        actor=ACTOR,
        reason=f"order {shipment.order_id}: {env.type}",
        cause_event_id=env.event_id,
        shipment_id=shipment.shipment_id,
    )

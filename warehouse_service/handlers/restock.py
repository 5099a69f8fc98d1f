"""Returned goods back into stock (SPEC §3.2): after-sales graded them at inspection."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from shared.envelope import Envelope
from shared.events.aftersales import GoodsGraded
from warehouse_service.adapters.registry import record_anomaly
from warehouse_service.adapters.uow import WarehouseUnitOfWork
from warehouse_service.domain.stock import RESTOCK_POOL
from warehouse_service.handlers import Deps

Handle = Callable[[WarehouseUnitOfWork, Envelope], Awaitable[None]]


async def goods_graded(deps: Deps, uow: WarehouseUnitOfWork, env: Envelope) -> None:
    """`new` units restock the receiving warehouse's sellable stock, `minor_flaw` units its
    discounted stock, each as a `restock` movement; other grades are not stock."""
    p: GoodsGraded = env.typed()
    now = deps.clock.now()
    wanted = [u for u in p.units if u.grade in RESTOCK_POOL and u.qty > 0]
    known = []
    for u in wanted:
        if u.warehouse_id and await uow.warehouses.get(u.warehouse_id) is not None:
            known.append(u)
            continue
        reason = f"return {p.return_id}: {u.sku} graded {u.grade} at unknown warehouse"
        await record_anomaly(uow.session, "unknown_warehouse", env, reason, now)
    keys = [(str(u.warehouse_id), u.sku, RESTOCK_POOL[u.grade]) for u in known]
    rows = {(s.warehouse_id, s.sku, s.pool): s for s in await uow.stock.lock(keys, now)}
    moves = []
    for u, key in zip(known, keys, strict=True):
        why = f"return {p.return_id} graded {u.grade}" + (f": {u.flaw_note}" if u.flaw_note else "")
        moves.append(
            rows[key].restock(
                u.qty,
                actor=env.producer,
                reason=why,
                cause_event_id=env.event_id,
                reference=p.return_id,
            )
        )
    if rows:
        await uow.stock.save(list(rows.values()), now)
        await uow.stock.record(moves, now)


def aftersales_events(deps: Deps) -> Handle:
    """The after-sales consumer's handler: only graded goods concern the warehouse."""

    async def handle(uow: WarehouseUnitOfWork, env: Envelope) -> None:
        if env.type == "goods.graded":
            await goods_graded(deps, uow, env)

    return handle

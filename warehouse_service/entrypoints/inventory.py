"""Inventory routes (SPEC §3.2): read stock and its ledger; ops adjust and transfer."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request

from shared.auth import Principal, allow
from shared.limits import ID_MAX, SKU_MAX
from shared.openapi import documented, errors
from warehouse_service.adapters import alerts as alert_store
from warehouse_service.adapters.listing import listed
from warehouse_service.adapters.stock import StockRepository
from warehouse_service.domain.alerts import AlertRule
from warehouse_service.entrypoints.inventory_schemas import (
    AdjustmentRequest,
    AdjustmentResult,
    AlertRuleBody,
    AlertRuleView,
    AlertView,
    ListedView,
    MovementView,
    StockView,
    TransferRequest,
    TransferResult,
    movement_dict,
    stock_dict,
)
from warehouse_service.handlers import Deps
from warehouse_service.handlers import inventory as handlers

router = APIRouter(tags=["inventory"])

Reader = Annotated[Principal, allow("clerk", "ops", "cs_agent", "cs_supervisor")]
Changer = Annotated[Principal, allow("ops")]
LIST_MAX = 5_000


async def _deps(request: Request) -> Deps:
    return request.app.state.deps


D = Annotated[Deps, Depends(_deps)]


SkuFilter = Annotated[str | None, Query(min_length=1, max_length=SKU_MAX)]
WarehouseFilter = Annotated[str | None, Query(min_length=1, max_length=ID_MAX)]
Limit = Annotated[int, Query(ge=1, le=LIST_MAX)]


@router.get("/inventory", responses=documented(list[StockView]))
async def list_stock(
    request: Request,
    _: Reader,
    sku: SkuFilter = None,
    warehouse_id: WarehouseFilter = None,
    limit: Limit = 1000,
) -> list[dict]:
    """Stock per warehouse, SKU and pool: on hand, reserved, available."""
    async with request.app.state.runtime.db.reader() as session:
        return await StockRepository(session).find(sku=sku, warehouse_id=warehouse_id, limit=limit)


@router.get("/inventory/movements", responses=documented(list[MovementView]))
async def list_movements(
    request: Request,
    _: Reader,
    sku: SkuFilter = None,
    warehouse_id: WarehouseFilter = None,
    limit: Limit = 200,
) -> list[dict]:
    """The ledger, newest first: every change with who, why and its cause event."""
    async with request.app.state.runtime.db.reader() as session:
        repo = StockRepository(session)
        found = await repo.movements(sku=sku, warehouse_id=warehouse_id, limit=limit)
    return [movement_dict(m) for m in found]


@router.get("/inventory/listing", responses=documented(list[ListedView]))
async def listing(request: Request, _: Reader, sku: SkuFilter = None) -> list[dict]:
    """Available stock as last pushed to the shop listing, per SKU (debounced; a zero at
    once)."""
    return await listed(request.app.state.runtime.db, sku)


@router.get("/inventory/alerts", responses=documented(list[AlertView]))
async def list_alerts(
    request: Request,
    _: Reader,
    kind: Literal["reorder", "slow_moving"] | None = None,
    sku: SkuFilter = None,
    warehouse_id: WarehouseFilter = None,
) -> list[dict]:
    """Rows below their reorder point, and rows slow-moving for 2 consecutive weeks."""
    rt = request.app.state.runtime
    found = await handlers.alerts(rt.db, rt.clock.now(), sku, warehouse_id)
    chosen = [a for a in found if kind in (None, a.kind)]
    return [asdict(a) | {"weekly_sales": list(a.weekly_sales)} for a in chosen]


@router.get("/inventory/alert-rules", responses=documented(list[AlertRuleView]))
async def list_alert_rules(request: Request, _: Reader) -> list[dict]:
    async with request.app.state.runtime.db.reader() as session:
        found = await alert_store.rules(session)
    return [{"sku": k} | asdict(v) for k, v in sorted(found.items())]


@router.put("/inventory/alert-rules/{sku}", responses=documented(AlertRuleView))
async def put_alert_rule(
    sku: Annotated[str, Path(min_length=1, max_length=SKU_MAX)],
    body: AlertRuleBody,
    deps: D,
    principal: Changer,
) -> dict:
    """Set one SKU's daily sales (or null: measured) and its reorder / slow-moving days."""
    rule = AlertRule(body.daily_sales, body.reorder_days, body.slow_moving_days)
    await handlers.set_alert_rule(deps, sku, rule, principal.actor)
    return {"sku": sku} | asdict(rule)


@router.post(
    "/inventory/adjustments",
    status_code=201,
    responses={**documented(AdjustmentResult, 201), **errors(404, 409)},
)
async def adjust(body: AdjustmentRequest, deps: D, principal: Changer) -> dict:
    """A receipt or a count correction; a count below what is reserved is 409 `below_reserved`."""
    stock, move = await handlers.adjust(
        deps,
        handlers.Adjustment(
            body.warehouse_id,
            body.sku,
            body.kind,
            body.reason,
            principal.actor,
            qty=body.qty,
            counted=body.counted,
            pool=body.pool,
        ),
    )
    return {"stock": stock_dict(stock), "movement": movement_dict(move)}


@router.post(
    "/inventory/transfers",
    status_code=201,
    responses={**documented(TransferResult, 201), **errors(404, 409)},
)
async def transfer(body: TransferRequest, deps: D, principal: Changer) -> dict:
    """Move available units between warehouses; more than is available is 409."""
    out, into, ref = await handlers.transfer(
        deps,
        body.sku,
        body.from_warehouse_id,
        body.to_warehouse_id,
        body.qty,
        body.reason,
        principal.actor,
    )
    return {"transfer_id": ref, "from": stock_dict(out), "to": stock_dict(into)}

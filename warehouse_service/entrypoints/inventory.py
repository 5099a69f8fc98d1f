"""Inventory routes (SPEC §3.2): read stock and its ledger; ops adjust and transfer."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field, model_validator

from shared.auth import Principal, allow
from shared.limits import ID_MAX, QTY_MAX, SKU_MAX, BoundedBody, Id, Sku
from shared.openapi import documented, errors
from warehouse_service.adapters.listing import listed
from warehouse_service.adapters.stock import StockRepository
from warehouse_service.domain.stock import Movement, Stock
from warehouse_service.handlers import Deps
from warehouse_service.handlers import inventory as handlers

router = APIRouter(tags=["inventory"])

Reader = Annotated[Principal, allow("clerk", "ops", "cs_agent", "cs_supervisor")]
Changer = Annotated[Principal, allow("ops")]
STOCK_MAX = 1_000_000_000  # units of one SKU at one warehouse
REASON_MAX = 500
LIST_MAX = 5_000


async def _deps(request: Request) -> Deps:
    return request.app.state.deps


D = Annotated[Deps, Depends(_deps)]
Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX)]
Units = Annotated[int, Field(ge=1, le=STOCK_MAX)]


class AdjustmentRequest(BoundedBody):
    """`receipt`: `qty` units arrived. `count_correction`: a stocktake counted `counted`."""

    warehouse_id: Id
    sku: Sku
    kind: Literal["receipt", "count_correction"]
    qty: Units | None = None
    counted: int | None = Field(None, ge=0, le=STOCK_MAX)
    reason: Reason

    @model_validator(mode="after")
    def _amount(self) -> AdjustmentRequest:
        if self.kind == "receipt" and (self.qty is None or self.counted is not None):
            raise ValueError('a receipt sends "qty" (units received), not "counted"')
        if self.kind == "count_correction" and (self.counted is None or self.qty is not None):
            raise ValueError('a count correction sends "counted" (units on hand), not "qty"')
        return self


class TransferRequest(BoundedBody):
    """调拨: `qty` available units of `sku` from one warehouse to another."""

    sku: Sku
    from_warehouse_id: Id
    to_warehouse_id: Id
    qty: Annotated[int, Field(ge=1, le=QTY_MAX * 100)]
    reason: Reason


class StockView(BaseModel):
    warehouse_id: str
    sku: str
    pool: str = Field(description="`sellable`, or `discounted` (returned with a minor flaw)")
    on_hand: int
    reserved: int = Field(description="the sum of the live reservations of open tasks")
    available: int = Field(description="on_hand - reserved, never below 0")
    updated_at: datetime | None = None


class MovementView(BaseModel):
    warehouse_id: str
    sku: str
    pool: str
    kind: str = Field(description="receipt, count_correction, reservation, release, pick, ...")
    on_hand_delta: int
    reserved_delta: int
    actor: str
    reason: str
    cause_event_id: str | None
    shipment_id: str | None
    reference: str | None


class AdjustmentResult(BaseModel):
    stock: StockView
    movement: MovementView


class TransferResult(BaseModel):
    transfer_id: str
    source: StockView = Field(alias="from")
    target: StockView = Field(alias="to")


def stock_dict(s: Stock) -> dict:
    return {
        "warehouse_id": s.warehouse_id,
        "sku": s.sku,
        "pool": s.pool,
        "on_hand": s.on_hand,
        "reserved": s.reserved,
        "available": s.available,
    }


def movement_dict(m: Movement) -> dict:
    return {
        "warehouse_id": m.warehouse_id,
        "sku": m.sku,
        "pool": m.pool,
        "kind": m.kind,
        "on_hand_delta": m.on_hand_delta,
        "reserved_delta": m.reserved_delta,
        "actor": m.actor,
        "reason": m.reason,
        "cause_event_id": m.cause_event_id,
        "shipment_id": m.shipment_id,
        "reference": m.reference,
    }


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


class ListedView(BaseModel):
    sku: str
    available: int = Field(description="what the shop listing was last told (-1: retrying)")
    pushed_at: datetime


@router.get("/inventory/listing", responses=documented(list[ListedView]))
async def listing(request: Request, _: Reader, sku: SkuFilter = None) -> list[dict]:
    """Available stock as last pushed to the shop listing, per SKU (debounced; a zero at
    once)."""
    return await listed(request.app.state.runtime.db, sku)


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

"""Request and response bodies of the inventory API (validated; 422 names the field)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from shared.limits import QTY_MAX, BoundedBody, Id, Sku
from warehouse_service.domain.alerts import REORDER_DAYS, SLOW_MOVING_DAYS
from warehouse_service.domain.stock import Movement, Stock

STOCK_MAX = 1_000_000_000  # units of one SKU at one warehouse
REASON_MAX = 500
Reason = Annotated[str, Field(min_length=1, max_length=REASON_MAX)]
Units = Annotated[int, Field(ge=1, le=STOCK_MAX)]


class AdjustmentRequest(BoundedBody):
    """`receipt`: `qty` units arrived. `count_correction`: a stocktake counted `counted`."""

    warehouse_id: Id
    sku: Sku
    kind: Literal["receipt", "count_correction"]
    pool: Literal["sellable", "discounted"] = "sellable"
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


class ListedView(BaseModel):
    sku: str
    available: int = Field(description="what the shop listing was last told (-1: retrying)")
    pushed_at: datetime


class AlertView(BaseModel):
    warehouse_id: str
    sku: str
    kind: str = Field(description="`reorder` (replenish) or `slow_moving` (clear)")
    available: int
    daily_sales: float = Field(description="configured, else shipped a day over 4 weeks")
    point: float = Field(description="the reorder or slow-moving point crossed")
    weekly_sales: list[int] = Field(description="units shipped in the last weeks, newest first")


class AlertRuleBody(BoundedBody):
    """Per-SKU alert settings; `daily_sales` null measures it from shipments."""

    daily_sales: int | None = Field(None, ge=0, le=STOCK_MAX)
    reorder_days: int = Field(REORDER_DAYS, ge=1, le=365)
    slow_moving_days: int = Field(SLOW_MOVING_DAYS, ge=1, le=365)


class AlertRuleView(AlertRuleBody):
    sku: str


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
    return asdict(m)

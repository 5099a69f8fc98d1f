"""Request bodies of the warehouse API (validated; 422 names the field path)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from shared.limits import (
    CODE_MAX,
    IDS_MAX,
    LINES_MAX,
    QTY_MAX,
    BoundedBody,
    Id,
    Instant,
    Name,
    Sku,
    Text,
)

WEIGHT_GRAMS_MAX = 1_000_000  # one parcel: 1 t
SCANNED_MAX = LINES_MAX * QTY_MAX // 100  # barcodes scanned for one parcel (50,000)


class Body(BoundedBody):
    pass


class NewWarehouse(Body):
    warehouse_id: str = Field(min_length=1, max_length=64)
    kind: Literal["own", "dropship"]
    supplier_id: Id | None = None
    name: Name = ""


class ImportRequest(Body):
    """One (`shipment_id`), a batch (`shipment_ids`) or everything queued (`all_queued`)."""

    shipment_id: Id | None = None
    shipment_ids: list[Id] | None = Field(None, max_length=IDS_MAX)
    all_queued: bool = False

    @model_validator(mode="after")
    def _something(self) -> ImportRequest:
        if not (self.shipment_id or self.shipment_ids or self.all_queued):
            raise ValueError(
                'send "shipment_id": "<id>", "shipment_ids": ["<id>", ...] or "all_queued": true'
            )
        return self


class LabelRequest(Body):
    carrier: str = Field(min_length=1, max_length=CODE_MAX)
    tracking_number: str | None = Field(None, min_length=1, max_length=100)


class PackRequest(Body):
    scanned: list[Id] = Field(max_length=SCANNED_MAX)
    weight_grams: int = Field(gt=0, le=WEIGHT_GRAMS_MAX)


class OutOfStockRequest(Body):
    skus: list[Sku] = Field(min_length=1, max_length=LINES_MAX)
    note: Text = ""


class InterceptionRequest(Body):
    outcome: Literal["intercepted", "missed"]


class HoldRequest(Body):
    reason: Literal["address_check", "fraud_review", "awaiting_stock", "other"]
    until: Instant | None = None


class ScopeBody(Body):
    skus: list[Sku] = Field(default_factory=list, max_length=IDS_MAX)
    suppliers: list[Id] = Field(default_factory=list, max_length=IDS_MAX)
    campaigns: list[Id] = Field(default_factory=list, max_length=IDS_MAX)
    warehouses: list[Id] = Field(default_factory=list, max_length=IDS_MAX)
    all_dropship: bool = False


class PreviewRequest(Body):
    scope: ScopeBody


class StopRequest(Body):
    scope: ScopeBody
    reason: str = Field(min_length=1, max_length=500)


class RemovalLine(Body):
    sku: Sku
    qty: int = Field(gt=0, le=QTY_MAX)


class LineRemovalAnswer(Body):
    """`removed`: the units are off the task; `missed`: they ship. `lines` (optional) picks
    the pending requests answered; their units must be exactly these."""

    outcome: Literal["removed", "missed"]
    lines: list[RemovalLine] | None = Field(None, min_length=1, max_length=LINES_MAX)

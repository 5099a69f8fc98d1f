"""Request bodies of the warehouse API (validated; 422 names the field path)."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NewWarehouse(Body):
    warehouse_id: str = Field(min_length=1, max_length=64)
    kind: Literal["own", "dropship"]
    supplier_id: str | None = None
    name: str = ""


class ImportRequest(Body):
    """One (`shipment_id`), a batch (`shipment_ids`) or everything queued (`all_queued`)."""

    shipment_id: str | None = None
    shipment_ids: list[str] | None = None
    all_queued: bool = False


class LabelRequest(Body):
    carrier: str = Field(min_length=1, max_length=64)
    tracking_number: str | None = Field(None, min_length=1, max_length=100)


class PackRequest(Body):
    scanned: list[str]
    weight_grams: int = Field(gt=0)


class OutOfStockRequest(Body):
    skus: list[str] = Field(min_length=1)
    note: str = ""


class InterceptionRequest(Body):
    outcome: Literal["intercepted", "missed"]


class HoldRequest(Body):
    reason: Literal["address_check", "fraud_review", "awaiting_stock", "other"]
    until: AwareDatetime | None = None


class ScopeBody(Body):
    skus: list[str] = Field(default_factory=list)
    suppliers: list[str] = Field(default_factory=list)
    campaigns: list[str] = Field(default_factory=list)
    warehouses: list[str] = Field(default_factory=list)
    all_dropship: bool = False


class StopRequest(Body):
    scope: ScopeBody
    reason: str = Field(min_length=1, max_length=500)

"""Response bodies of the warehouse API, as documented in its OpenAPI (output only).

Documentation models: the routes keep serialising their dicts as before (no run-time
validation on the scanner path); the fuzzer (tests/fuzz) checks the answers against them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field


class WarehouseView(BaseModel):
    warehouse_id: str
    kind: str
    supplier_id: str | None


class HoldView(BaseModel):
    hold_id: str
    kind: str
    reason: str | None
    owner: str | None
    stop_id: str | None
    created_at: datetime | None
    until: datetime | None
    released_at: datetime | None


class ShipmentView(BaseModel):
    """A shipment task: status, hold flag and holds, and the pending interception."""

    shipment_id: str
    order_id: str
    warehouse_id: str
    status: str
    held: bool
    held_by: list[str]
    holds: list[HoldView]
    interception_request: dict[str, Any] | None
    line_removals: list[dict[str, Any]] = []  # cancel by line: requests and their state
    relabels: list[dict[str, Any]] = Field(
        [],
        description="address changes after import (SPEC §2.4): request_id, the status then, "
        "voided_tracking_number, hold_id, state awaiting_label | labelled, the new "
        "tracking_number",
    )
    needs_label: bool = Field(
        False, description="a relabel voided the label of a labelled or packed task"
    )
    lines: list[dict[str, Any]]
    address: dict[str, Any]
    note: str | None
    carrier: str | None
    tracking_number: str | None
    weight_grams: int | None
    submitted_at: datetime | None
    shipped_at: datetime | None
    replacement_id: str | None = None  # set on a replacement shipment (`<order>-R1`)
    version: int


class ImportRefusal(BaseModel):
    shipment_id: str | None = None
    code: str
    message: str
    details: dict[str, Any] = {}


class ImportResult(BaseModel):
    allocated: list[Any]
    refused: list[ImportRefusal]


class PlacedHold(BaseModel):
    hold: HoldView
    shipment: ShipmentView


class StopScope(BaseModel):
    skus: list[str]
    suppliers: list[str]
    campaigns: list[str]
    warehouses: list[str]
    all_dropship: bool


class Acknowledgement(BaseModel):
    warehouse_id: str
    instance_id: str
    held_count: int
    already_shipped: list[str]
    acknowledged_at: datetime | None


class StopReport(BaseModel):
    """A stop with the acknowledgements of every warehouse, held counts, what had left."""

    stop_id: str
    status: str
    scope: StopScope
    reason: str
    issued_by: str | None
    issued_at: datetime | None
    lifted_at: datetime | None
    lifted_by: str | None
    acknowledgements: list[Acknowledgement]
    held_now: dict[str, int]
    already_shipped: list[str]
    unacknowledged_warehouses: list[str]


class PreviewWarehouse(BaseModel):
    warehouse_id: str
    tasks: int
    orders: list[str]
    already_shipped: list[str]


class StopPreview(BaseModel):
    """What a scope would hold now (tasks not yet shipped) and what has already shipped."""

    scope: StopScope
    tasks: int
    orders: list[str]
    already_shipped: list[str]
    warehouses: list[PreviewWarehouse]


class StopSummary(BaseModel):
    stop_id: str
    status: str
    scope: dict[str, Any]
    reason: str
    issued_at: datetime | None


class Anomaly(BaseModel):
    order_id: str | None
    shipment_id: str | None
    event_type: str | None
    detail: Any
    recorded_at: datetime | None


class Lifecycle(BaseModel):
    states: list[str]
    transitions: list[dict[str, Any]]
    mermaid: str

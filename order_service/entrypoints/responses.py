"""Response bodies of the order API, as documented in its OpenAPI (output only).

Fields a route always sends are required; nested records the domain owns (flags,
timeline details, pending requests) stay open objects. Unknown fields are allowed, so
adding a field to a view does not break clients.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class Capability(BaseModel):
    """One answer of the SPEC §2.1 table."""

    allowed: bool
    mode: str = Field(
        description="edit: apply|request|none; address_change: apply|request|relabel|none; "
        "cancel and refund: the path taken"
    )
    guaranteed: bool
    pending_confirmation: bool
    reason: str
    code: str | None = Field(None, description="why not, when refused")
    timing: str | None = Field(None, description="refunds: when the money goes back")


class Capabilities(BaseModel):
    """`GET /orders/{id}/capabilities`: what CS may do now, from the authoritative state."""

    stage: str
    held: bool
    edit: Capability
    address_change: Capability = Field(
        description="an address-only edit (SPEC §2.4): as `edit` before import; at allocated "
        "or labelled a `relabel`, guaranteed (the warehouse holds the task `address_change`, "
        "voids its label and releases it when labelled again); at packed a relabel, best "
        "effort unless held; refused once shipped, unless a replacement (`-R1`) is still in "
        "the warehouse: then a relabel of the replacement"
    )
    cancel: Capability
    refund: Capability
    lines: list[CapabilityLine] = []


class OrderShipment(BaseModel):
    shipment_id: str
    warehouse_id: str
    lines: list[dict[str, Any]]
    status: str
    holds: list[dict[str, Any]]
    carrier: str | None
    tracking_number: str | None
    replacement_id: str | None = Field(
        None, description="set on a replacement shipment (`<order>-R1`): not in the order's stage"
    )


class OrderView(BaseModel):
    """An order with its version (the `ETag`), hold and capabilities."""

    order_id: str
    version: int
    shop_id: str
    platform: str
    platform_order_id: str
    stage: str
    buyer: dict[str, Any]
    address: dict[str, Any]
    lines: list[dict[str, Any]]
    total: str = Field(description="decimal string")
    shipping: str | None = Field(
        None, description="decimal string: the shipping `total` includes; null: not known"
    )
    discount: str | None = Field(
        None, description="decimal string: the order-level discount; null: not known"
    )
    currency: str
    paid_at: str | None
    note: str
    review: dict[str, Any]
    flags: list[dict[str, Any]]
    shipments: list[OrderShipment]
    pending_edit: dict[str, Any] | None
    pending_cancel: dict[str, Any] | None
    anomalies: list[dict[str, Any]]
    held: bool
    held_by: list[str]
    capabilities: Capabilities
    line_states: list[LineState] = []
    line_removals: list[dict[str, Any]] = Field(
        [], description="ledger of removed / requested units (request, shipment, mode, state)"
    )
    line_changes: list[dict[str, Any]] = Field(
        [],
        description="versioned change records (who, which lines, each line's path, outcome): "
        "kind `cancel_lines`, or `address_change` (a relabel: `address`, lines' mode `relabel`, "
        "outcome relabelled | missed | superseded)",
    )
    replacements: list[dict[str, Any]] = Field(
        [], description="exchanges and reships: one record per replacement id (outcome, shipments)"
    )


class OrderList(BaseModel):
    orders: list[OrderView]


class TimelineEntry(BaseModel):
    at: str
    kind: str
    actor: str | None
    cause: str | None
    detail: Any


class Timeline(BaseModel):
    order_id: str
    entries: list[TimelineEntry]


class EditAnswer(BaseModel):
    """200: applied; 202: sent to the warehouse, pending its confirmation."""

    edit: Capability
    order: OrderView


class LineCancelled(BaseModel):
    """One line of a cancel by line: the units, the path taken and where it stands."""

    sku: str
    qty: int
    shipment_id: str | None
    mode: str = Field(description="remove | withdraw | removal_request")
    guaranteed: bool
    outcome: str = Field(description="removed | pending | missed")


class CancelAnswer(Capability):
    """The mode taken (200 done, 202 pending the warehouse), and the order after it. A cancel
    by line answers `mode: "lines"` with `lines` (the mode taken per line) and `change` (the
    version of its change record on the order)."""

    order_id: str
    stage: str
    order: OrderView
    lines: list[LineCancelled] | None = None
    change: int | None = None
    request_id: str | None = None


class CapabilityLine(BaseModel):
    """SPEC §2.4 for one line: `qty` is its active units (what a cancel may name)."""

    sku: str
    qty: int
    shipment_id: str | None
    cancel: Capability
    refund: Capability


class LineState(BaseModel):
    sku: str
    shipment_id: str | None
    qty: int
    state: str = Field(description="active | removal_requested | removed | shipped | returned")


class MergeAnswer(BaseModel):
    merge_group: str
    order_ids: list[str]


class ReviewPolicy(BaseModel):
    auto_review: bool
    default_campaign_limit: int
    campaign_limits: dict[str, int]


class Lifecycle(BaseModel):
    states: list[str]
    main_stages: list[str]
    side_states: list[str]
    terminal: list[str]
    hold: str
    transitions: list[dict[str, Any]]
    guards: dict[str, Any]
    mermaid: str


class WebhookAnswer(BaseModel):
    """202 new, 200 duplicate (or ignored: `outcome` says which)."""

    order_id: str | None
    stage: str | None
    duplicate: bool
    outcome: str | None


class SkuMappingRow(BaseModel):
    platform: str
    variant_id: str
    sku: str
    updated_by: str | None = None
    updated_at: str | None = None


class SkuMappings(BaseModel):
    mappings: list[SkuMappingRow]


class SkuMappingWritten(BaseModel):
    mapping: SkuMappingRow
    resolved_orders: list[str]

"""Events published by order_service on topic `orders`, keyed by order id."""

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from shared.envelope import Payload, event
from shared.events.common import Address, Buyer, Line, Value


class LineQty(Value):
    """Some units of one order line, by SKU: what a partial cancel or refund names."""

    sku: str
    qty: int = Field(gt=0)


@event("order.synced")
class OrderSynced(Payload):
    """A paid platform order was stored (stage `synced`)."""

    shop_id: str
    platform: str
    platform_order_id: str
    buyer: Buyer
    address: Address
    lines: list[Line]
    total: Decimal
    currency: str
    paid_at: datetime
    note: str = ""
    # What `total` includes besides the lines (total = lines + shipping - discount for the
    # generic webhook). None: not known (the platform did not say, or an older event).
    shipping: Decimal | None = None
    discount: Decimal | None = None


@event("order.stage_changed")
class OrderStageChanged(Payload):
    """Every lifecycle transition, for projections (after-sales keeps one)."""

    stage: str
    previous: str
    trigger: str
    held: bool = False


@event("order.submitted")
class ShipmentSubmitted(Payload):
    """One shipment of an order sent to a warehouse (an order may split into several)."""

    shipment_id: str
    warehouse_id: str
    lines: list[Line]
    address: Address
    platform: str
    buyer_id: str
    paid_at: datetime
    # Set on a replacement shipment (`<order>-R1`, SPEC §4.1): the after-sales request.
    replacement_id: str | None = None


@event("order.edit_requested")
class EditRequested(Payload):
    """CS edit at `submitted`: the warehouse applies it only while the task is queued."""

    shipment_id: str
    request_id: str
    address: Address | None = None
    note: str | None = None
    lines: list[Line] | None = None


@event("order.withdraw_requested")
class WithdrawRequested(Payload):
    """Cancel at `submitted` or while held: withdraw the task, else intercept it."""

    shipment_id: str
    request_id: str
    reason: str
    guaranteed: bool = False


@event("order.intercept_requested")
class InterceptRequested(Payload):
    """Cancel after import: best effort, outcome `intercepted` or `missed`."""

    shipment_id: str
    request_id: str
    reason: str


@event("order.line_removal_requested")
class LineRemovalRequested(Payload):
    """Cancel by line (SPEC §2.4): remove these units from one shipment's task. The
    warehouse removes them at once while queued or when `guaranteed` (held), else records
    a removal request answered by the scanner (`removed` | `missed`)."""

    shipment_id: str
    request_id: str
    lines: list[LineQty] = Field(min_length=1)
    reason: str
    guaranteed: bool = False


@event("order.address_change_requested")
class AddressChangeRequested(Payload):
    """An address change once the warehouse has the task (SPEC §2.4): a relabel. The
    warehouse holds the task (`address_change`), applies the address, voids its label and
    releases it when labelled again; answered `shipment.address_changed` or
    `shipment.address_change_missed` (it left). `guaranteed`: not yet packed, or held."""

    shipment_id: str
    request_id: str
    address: Address
    guaranteed: bool = False


class LineChange(Value):
    """One line of a change record: the units, the path they took and its outcome."""

    sku: str
    qty: int = Field(gt=0)
    shipment_id: str | None = None
    mode: str  # remove | withdraw | removal_request | relabel
    guaranteed: bool = False
    outcome: str  # pending | removed | missed | relabelled | superseded


@event("order.lines_changed")
class LinesChanged(Payload):
    """One versioned change record of an order's lines (cancel by line): who, which lines,
    each line's path and outcome. Emitted when made and again at every answer. Kind
    `cancel_lines`, or `address_change` (a relabel: `address` is the new address)."""

    version: int
    kind: str
    request_id: str
    by: str
    reason: str
    lines: list[LineChange]
    outcome: str  # pending | done | missed | partly_missed | superseded (address change)
    address: Address | None = None


@event("order.cancelled")
class OrderCancelled(Payload):
    """The order is cancelled; `refund_due` is what the buyer paid and gets back.

    `lines` names the units cancelled when only part of the order is (empty: all of it);
    after-sales then refunds exactly those lines by its own money rules."""

    reason: str
    mode: str
    refund_due: Decimal
    currency: str = "CNY"
    lines: list[LineQty] = []


@event("order.delivered")
class OrderDelivered(Payload):
    delivered_at: datetime
    source: str = "platform"


@event("order.refund_requested")
class RefundRequested(Payload):
    """A refund request that arrived from the platform (webhook). `skus` names the units
    refunded (each entry one unit); none: an amount, the whole order when it is all that
    is left to refund."""

    platform_refund_id: str
    amount: Decimal
    reason: str = ""
    skus: list[str] = []


@event("order.refund_decided")
class RefundDecided(Payload):
    """The order service's answer to `aftersales.refund_requested` (SPEC §4.1): its own
    refund rule (`rules.decide(order, "refund")`, what capabilities answers) and what it did.

    `mode`: void | withdraw | intercept | refuse_delivery | return | none; `code` and
    `reason` say why when not `allowed`. `cancel`: `requested` (the cancel of that mode was
    issued: `order.cancelled` follows when it takes effect), `pending` (a cancel already
    under way answers it), `lines_pending` (a line cancel is needed), or `none`."""

    refund_id: str
    allowed: bool
    mode: str
    guaranteed: bool = False
    timing: str = ""
    code: str = ""
    reason: str = ""
    cancel: str = "none"
    lines: list[LineQty] = []


class ReplacementShipment(Value):
    shipment_id: str
    warehouse_id: str
    lines: list[Line]


@event("order.replacement_created")
class ReplacementCreated(Payload):
    """The answer to `aftersales.replacement_requested`: the replacement units were routed
    as new shipments of the order (each also sent as `order.submitted`). `value` is the
    replacement lines at catalog price, for an exchange's price difference."""

    replacement_id: str
    kind: str
    shipments: list[ReplacementShipment]
    value: Decimal
    currency: str = "CNY"


@event("order.replacement_refused")
class ReplacementRefused(Payload):
    """A replacement could not be sent: `code` says why (unknown_sku, no_warehouse,
    order_cancelled, ...)."""

    replacement_id: str
    kind: str
    code: str
    reason: str = ""

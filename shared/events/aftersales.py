"""Events published by aftersales_service on topic `aftersales`, keyed by order id."""

from datetime import datetime
from decimal import Decimal

from pydantic import Field

from shared.envelope import Payload, event
from shared.events.common import Value
from shared.events.orders import LineQty


@event("aftersales.cancel_requested")
class CancelForRefund(Payload):
    """A refund needs the order stopped first; order_service applies its stage rule.
    Superseded by `aftersales.refund_requested`; still handled for events in flight."""

    refund_id: str
    reason: str


@event("aftersales.refund_requested")
class RefundPathRequested(Payload):
    """A refund asks the order service for its refund path (SPEC §4.1): after-sales holds
    no stage rule. Answered by `order.refund_decided`; then the order service takes the
    cancel that path needs (void, withdraw, intercept) as for a CS cancel, and
    `order.cancelled` releases the money. `lines` empty: the whole order."""

    refund_id: str
    amount: Decimal
    reason: str = ""
    lines: list[LineQty] = []


@event("aftersales.replacement_requested")
class ReplacementRequested(Payload):
    """Send replacement units (SPEC §4.1): an exchange (when its return is received, or at
    once under the `ship_first` policy) or a reship of missing or transit-damaged units.
    The order service routes them as a new shipment of the same order (`<order>-R1`) and
    answers `order.replacement_created` or `order.replacement_refused`."""

    replacement_id: str
    kind: str  # exchange | reship
    lines: list[LineQty] = Field(min_length=1)
    reason: str = ""
    return_id: str | None = None  # the exchange's return


@event("refund.issued")
class RefundIssued(Payload):
    refund_id: str
    amount: Decimal
    currency: str = "CNY"
    reason: str = ""


@event("return.opened")
class ReturnOpened(Payload):
    """A return (or a refused-at-the-door parcel) is on its way back: order → `returning`."""

    return_id: str
    kind: str  # return | refused_delivery
    reason_code: str


@event("return.received")
class ReturnReceived(Payload):
    """The parcel is back at the warehouse: order → `returned`."""

    return_id: str
    kind: str


@event("refund.refused")
class RefundRefused(Payload):
    """A refund request (e.g. from a platform webhook) was refused; `path` says what to do."""

    refund_id: str
    code: str
    path: str = "none"  # refuse_delivery | return | complaint | none
    reason: str = ""


@event("complaint.escalated")
class ComplaintEscalated(Payload):
    """A complaint breached its SLA tier and moved up; keyed by order id (or complaint id)."""

    complaint_id: str
    from_tier: str
    to_tier: str
    owner: str
    due_at: datetime
    breached_at: datetime
    escalations: int


class GradedUnit(Value):
    """Returned units of one SKU with one grade, and the warehouse that received them."""

    sku: str
    qty: int
    grade: str  # new | minor_flaw | severe_flaw | damaged
    disposition: str  # restock | discounted_resale | repair | scrap
    warehouse_id: str | None = None
    flaw_note: str = ""


@event("goods.graded")
class GoodsGraded(Payload):
    """A return was inspected: the warehouse restocks `new` units as sellable and
    `minor_flaw` units as discounted stock (SPEC §3.2, §4). Not an order fact: the order
    service ignores it."""

    return_id: str
    units: list[GradedUnit]

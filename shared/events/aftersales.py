"""Events published by aftersales_service on topic `aftersales`, keyed by order id."""

from datetime import datetime
from decimal import Decimal

from shared.envelope import Payload, event


@event("aftersales.cancel_requested")
class CancelForRefund(Payload):
    """A refund needs the order stopped first; order_service applies its stage rule."""

    refund_id: str
    reason: str


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

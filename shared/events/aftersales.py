"""Events published by aftersales_service on topic `aftersales`, keyed by order id."""

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
